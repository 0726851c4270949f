import { useEffect, useState } from "react";

import type { Notice } from "../../components/ui";
import { UNREACHABLE } from "../../lib/api/errors";
import { useAuth } from "../../lib/session";
import { passkeys } from "./api";
import { passkeyFromAutofill, stopAutofill } from "./autofill";
import { passkeyAssertion, supportsPasskeys } from "./webauthn";

const TEXT = {
  button: "Sign in with a passkey",
  waiting: "Waiting for your passkey…",
};

/**
 * "Sign in with a passkey": no email, no password. The server offers every passkey of this site
 * (a discoverable credential), the browser asks which one, the server starts the session. The
 * same passkeys are offered in the email field's autofill where the browser can (autofill.ts).
 * The login page shows it among its other ways in (app/routes/LoginRoute.tsx).
 */
export function PasskeySignIn({ onNotice }: { onNotice: (notice: Notice) => void }) {
  const { signInWith } = useAuth();
  const [busy, setBusy] = useState(false);
  const [supported] = useState(supportsPasskeys);
  // Bumped after the button's own ceremony, which cancels the autofill's: offer autofill again.
  const [round, setRound] = useState(0);

  useEffect(() => {
    if (!supported) return;
    let live = true;
    void passkeyFromAutofill(() => passkeys.options({ purpose: "sign_in" })).then(async (credential) => {
      if (!live || !credential) return;
      try {
        const failure = await signInWith(passkeys.signIn(credential));
        if (failure) onNotice({ kind: "error", text: failure.message });
      } catch {
        onNotice({ kind: "error", text: UNREACHABLE });
      }
    });
    return () => {
      live = false;
      stopAutofill();
    };
  }, [supported, round, signInWith, onNotice]);

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
    setRound((n) => n + 1);
  }

  return (
    <button type="button" className="alt-sign-in" disabled={busy} aria-busy={busy} onClick={() => void start()}>
      {busy ? TEXT.waiting : TEXT.button}
    </button>
  );
}
