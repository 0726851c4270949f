import { useState } from "react";

import { secondFactors } from "../api/secondFactors";
import type { MfaStatus, TotpSetup as Setup } from "../api/secondFactors";
import { useConfirmed } from "../components/ConfirmProvider";
import { Alert, useAction } from "../components/ui";
import type { FactorsProps } from "./SecondFactors";
import { TotpSetup } from "./TotpSetup";

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
  const confirmed = useConfirmed();
  const [setup, setSetup] = useState<Setup | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const start = useAction(confirmed(() => secondFactors.setupTotp()));
  const turnOff = useAction(confirmed(() => secondFactors.disableTotp()));
  const regenerate = useAction(confirmed(() => secondFactors.newRecoveryCodes()));
  const busy = start.busy || turnOff.busy || regenerate.busy;

  async function beginSetup() {
    setNotice(null);
    const result = await start.run();
    if (result.ok && result.data) setSetup(result.data);
  }

  async function enabled(codes: string[]) {
    setSetup(null);
    setNotice("Two-step sign-in with your authenticator app is on.");
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

  async function newCodes() {
    if (!window.confirm("Make new recovery codes? The ones you have now will stop working.")) return;
    setNotice(null);
    const result = await regenerate.run();
    if (result.ok && result.data) {
      onCodes(result.data.recovery_codes);
      setNotice("New recovery codes are ready; the old ones no longer work.");
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
          ) : (
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
            <button type="button" disabled={busy} aria-busy={regenerate.busy} onClick={() => void newCodes()}>
              New recovery codes
            </button>
          </li>
        )}
      </ul>
      {setup && <TotpSetup setup={setup} onEnabled={(codes) => void enabled(codes)} onCancel={() => setSetup(null)} />}
    </section>
  );
}
