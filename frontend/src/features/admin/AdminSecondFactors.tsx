import { useState } from "react";

import { Alert, useAction } from "../../components/ui";
import type { User } from "../../lib/api/client";
import { adminSecondFactors } from "../../lib/api/secondFactors";
import type { MfaStatus } from "../../lib/api/secondFactors";
import { useConfirmed } from "../../lib/confirmation";

/** "Authenticator app · 2 passkeys · 7 recovery codes left", or that there is none. */
export function describeFactors(status: MfaStatus): string {
  if (status.methods.length === 0) return "No second factor.";
  const parts = [
    status.totp_enabled && "authenticator app",
    status.passkeys > 0 && `${status.passkeys} passkey${status.passkeys === 1 ? "" : "s"}`,
    `${status.recovery_codes_left} recovery code${status.recovery_codes_left === 1 ? "" : "s"} left`,
  ].filter(Boolean) as string[];
  const text = parts.join(" · ");
  return `Second factors: ${text}.`;
}

/**
 * A user's second factors in the admin list, asked for when opened (one request per user
 * looked at, not twenty per page); "Reset second factors" for someone locked out.
 */
export function AdminSecondFactors({ user, onNotice }: { user: User; onNotice: (notice: string) => void }) {
  const confirmed = useConfirmed();
  const [open, setOpen] = useState(false);
  const [status, setStatus] = useState<MfaStatus | null>(null);
  const load = useAction(confirmed((id: string) => adminSecondFactors.status(id)));
  const reset = useAction(confirmed((id: string) => adminSecondFactors.reset(id)));
  const panelId = `factors-${user.id}`;

  async function refresh() {
    const result = await load.run(user.id);
    if (result.ok && result.data) setStatus(result.data);
  }

  async function toggle() {
    const opening = !open;
    setOpen(opening);
    if (opening) await refresh();
  }

  async function resetAll() {
    const question = `Reset the second factors of ${user.email}? Their authenticator app, recovery codes and passkeys stop working, and their sessions end. Do this only once you are sure it is really them.`;
    if (!window.confirm(question)) return;
    if ((await reset.run(user.id)).ok) {
      onNotice(`The second factors of ${user.email} were reset: they can sign in with their password alone and set them up again.`);
      await refresh();
    }
  }

  return (
    <div className="user-factors">
      <button type="button" aria-expanded={open} aria-controls={panelId} onClick={() => void toggle()}>
        Second factors
      </button>
      {open && (
        <div id={panelId} className="factors-panel">
          <Alert kind="error">{load.error ?? reset.error}</Alert>
          {status ? (
            <p className="meta">{describeFactors(status)}</p>
          ) : (
            !load.error && <p className="meta">Loading…</p>
          )}
          {status && status.methods.length > 0 && (
            <button type="button" className="danger" disabled={reset.busy} aria-busy={reset.busy} onClick={() => void resetAll()}>
              Reset second factors
            </button>
          )}
        </div>
      )}
    </div>
  );
}
