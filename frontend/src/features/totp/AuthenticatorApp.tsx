import { useState } from "react";
import type { ReactNode } from "react";

import { VerifyFirst } from "../../components/VerifyFirst";
import { Alert, useAction } from "../../components/ui";
import type { MfaStatus } from "../../lib/api/secondFactors";
import { useConfirmed } from "../../lib/confirmation";
import { signedOutText } from "../../lib/factors";
import type { FactorsProps } from "../../lib/factors";
import { useAuth } from "../../lib/session";
import { totp } from "./api";
import type { TotpSetup as Setup } from "./api";
import { TotpSetup } from "./TotpSetup";


function summary(status: MfaStatus): string {
  if (status.methods.length === 0) {
    return "Off: your password (or an emailed link, or a provider) is all it takes to sign in. Add an authenticator app or a passkey, so a stolen password is not enough.";
  }
  const ways = [status.totp_enabled && "a code from your authenticator app", status.passkeys > 0 && "a passkey"].filter(Boolean);
  return `On: after the first step, signing in asks for ${ways.join(" or ") || "a second factor"} — or a recovery code.`;
}

/**
 * The account page's "Two-step sign-in" card: the authenticator app (TOTP), set up, turned on and
 * off here; `more` is what else the card lists (the recovery codes, another feature's, given by
 * the app's route).
 */
export function AuthenticatorApp({ status, onStatus, reload, onCodes, more }: FactorsProps & { more?: ReactNode }) {
  const { user } = useAuth();
  const confirmed = useConfirmed();
  const [setup, setSetup] = useState<Setup | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const start = useAction(confirmed(() => totp.setup()));
  const turnOff = useAction(confirmed(() => totp.disable()));
  const busy = start.busy || turnOff.busy;

  async function beginSetup() {
    setNotice(null);
    const result = await start.run();
    if (result.ok && result.data) setSetup(result.data);
  }

  async function enabled(codes: string[], sessionsEnded: number) {
    setSetup(null);
    setNotice(`Two-step sign-in with your authenticator app is on. ${signedOutText(sessionsEnded)}`.trim());
    onCodes(codes);
    await reload();
  }

  async function disable() {
    const rest = status.passkeys > 0 ? "Signing in will still ask for a passkey." : "Signing in will no longer ask for a second step.";
    if (!window.confirm(`Turn off the authenticator app? ${rest}`)) return;
    setNotice(null);
    const result = await turnOff.run();
    if (result.ok && result.data) {
      onStatus(result.data);
      setNotice("The authenticator app is off. Your other sessions were signed out.");
    }
  }

  return (
    <section className="card" aria-labelledby="two-step-title">
      <h2 id="two-step-title">Two-step sign-in</h2>
      <Alert kind="success">{notice}</Alert>
      <Alert kind="error">{start.error ?? turnOff.error}</Alert>
      <p>{summary(status)}</p>
      <ul className="methods" aria-label="Second factors">
        <li className="method">
          <div>
            <strong>Authenticator app</strong>
            {status.totp_enabled ? <span className="badge ok">on</span> : <span className="badge">off</span>}
            <div className="meta">A 6-digit code from an app on your phone, new every 30 seconds.</div>
          </div>
          {status.totp_enabled ? (
            <button type="button" className="danger" disabled={busy} onClick={() => void disable()}>
              Turn off
            </button>
          ) : user && !user.is_verified ? null : (
            !setup && (
              <button type="button" className="primary" disabled={busy} aria-busy={start.busy} onClick={() => void beginSetup()}>
                {status.methods.length === 0 ? "Turn on two-step sign-in" : "Add an authenticator app"}
              </button>
            )
          )}
        </li>
        {more}
      </ul>
      {user && !user.is_verified && !status.totp_enabled && (
        <VerifyFirst email={user.email} what="turn on two-step sign-in" />
      )}
      {setup && (
        <TotpSetup
          setup={setup}
          onEnabled={(codes, ended) => void enabled(codes, ended)}
          onCancel={() => setSetup(null)}
        />
      )}
    </section>
  );
}
