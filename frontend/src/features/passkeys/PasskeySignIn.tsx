import { useState } from "react";

import type { Notice } from "../../components/ui";
import { UNREACHABLE } from "../../lib/api/errors";
import { useAuth } from "../../lib/session";
import { passkeys } from "./api";
import { passkeyAssertion, supportsPasskeys } from "./webauthn";

/**
 * "Sign in with a passkey": no email, no password. The server offers every passkey of this site
 * (a discoverable credential), the browser asks which one, the server starts the session. The
 * login page shows it among its other ways in (app/routes/LoginRoute.tsx).
 */
export function PasskeySignIn({ onNotice }: { onNotice: (notice: Notice) => void }) {
  const { signInWith } = useAuth();
  const [busy, setBusy] = useState(false);
  const [supported] = useState(supportsPasskeys);
  if (!supported) return null;

  async function start() {
    setBusy(true);
    onNotice(null);
    const outcome = await passkeyAssertion(() => passkeys.options({ purpose: "sign_in" }));
    if (!outcome.ok) {
      if (outcome.message) onNotice({ kind: outcome.kind, text: outcome.message });
    } else {
      try {
        const failure = await signInWith(passkeys.signIn(outcome.credential));
        if (failure) onNotice({ kind: "error", text: failure.message });
      } catch {
        onNotice({ kind: "error", text: UNREACHABLE });
      }
    }
    setBusy(false);
  }

  return (
    <button type="button" className="passkey-sign-in" disabled={busy} aria-busy={busy} onClick={() => void start()}>
      {busy ? "Waiting for your passkey…" : "Sign in with a passkey"}
    </button>
  );
}
