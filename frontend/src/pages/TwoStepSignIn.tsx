import { useState } from "react";
import type { FormEvent } from "react";

import { secondFactors } from "../api/secondFactors";
import type { MfaStatus, TotpSetup as Setup } from "../api/secondFactors";
import { useAuth } from "../auth/AuthProvider";
import { useConfirmed } from "../components/ConfirmProvider";
import { VerifyFirst } from "../components/VerifyFirst";
import { Alert, useAction } from "../components/ui";
import type { FactorsProps } from "./SecondFactors";
import { TotpSetup } from "./TotpSetup";

/** "Your 2 other sessions were signed out." after a change that ended them; "" for none. */
export function signedOutText(sessions: number): string {
  if (sessions <= 0) return "";
  return sessions === 1 ? "Your other session was signed out." : `Your ${sessions} other sessions were signed out.`;
}

const FEW_CODES_LEFT = 3;

function summary(status: MfaStatus): string {
  if (status.methods.length === 0) {
    return "Off: your password (or an emailed link, or a provider) is all it takes to sign in. Add an authenticator app or a passkey, so a stolen password is not enough.";
  }
  const ways = [status.totp_enabled && "a code from your authenticator app", status.passkeys > 0 && "a passkey"].filter(Boolean);
  return `On: after the first step, signing in asks for ${ways.join(" or ") || "a second factor"} — or a recovery code.`;
}

/** The account page's "Two-step sign-in": the authenticator app (TOTP) and the recovery codes. */
export function TwoStepSignIn({ status, onStatus, reload, onCodes }: FactorsProps) {
  const { user } = useAuth();
  const confirmed = useConfirmed();
  const [setup, setSetup] = useState<Setup | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  // "New recovery codes" asks first, with "sign out my other sessions" ticked.
  const [askingCodes, setAskingCodes] = useState(false);
  const start = useAction(confirmed(() => secondFactors.setupTotp()));
  const turnOff = useAction(confirmed(() => secondFactors.disableTotp()));
  const regenerate = useAction(confirmed((endOthers: boolean) => secondFactors.newRecoveryCodes(endOthers)));
  const busy = start.busy || turnOff.busy || regenerate.busy;

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

  async function newCodes(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const endOthers = new FormData(event.currentTarget).get("end_others") === "on";
    setNotice(null);
    const result = await regenerate.run(endOthers);
    if (result.ok && result.data) {
      setAskingCodes(false);
      onCodes(result.data.recovery_codes);
      const ended = signedOutText(result.data.other_sessions_ended ?? 0);
      setNotice(`New recovery codes are ready; the old ones no longer work. ${ended}`.trim());
      await reload();
    }
  }

  const left = status.recovery_codes_left;
  return (
    <section className="card" aria-labelledby="two-step-title">
      <h2 id="two-step-title">Two-step sign-in</h2>
      <Alert kind="success">{notice}</Alert>
      <Alert kind="error">{start.error ?? turnOff.error ?? regenerate.error}</Alert>
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
        {status.methods.length > 0 && (
          <li className="method">
            <div>
              <strong>Recovery codes</strong>
              {left <= FEW_CODES_LEFT && <span className="badge warn">{left === 0 ? "none left" : "few left"}</span>}
              <div className="meta">
                {left} unused recovery code{left === 1 ? "" : "s"} left. Each works once, when you cannot use your other
                factors.
              </div>
            </div>
            {!askingCodes && (
              <button
                type="button"
                disabled={busy}
                onClick={() => {
                  setNotice(null);
                  setAskingCodes(true);
                }}
              >
                New recovery codes
              </button>
            )}
          </li>
        )}
      </ul>
      {askingCodes && (
        <form className="confirm-inline" onSubmit={(event) => void newCodes(event)} aria-label="Make new recovery codes">
          <p>Make new recovery codes? The ones you have now stop working.</p>
          <label className="check">
            <input type="checkbox" name="end_others" defaultChecked /> Sign out my other sessions too
          </label>
          <div className="method-actions">
            <button type="submit" className="primary" disabled={busy} aria-busy={regenerate.busy} autoFocus>
              {regenerate.busy ? "Working…" : "Make new codes"}
            </button>
            <button type="button" disabled={busy} onClick={() => setAskingCodes(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
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
