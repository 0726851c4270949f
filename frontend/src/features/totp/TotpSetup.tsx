import { useId } from "react";
import type { FormEvent } from "react";

import { Alert, Field, SubmitButton, useAction } from "../../components/ui";
import { useConfirmed } from "../../lib/confirmation";
import { totp } from "./api";
import type { TotpSetup as Setup } from "./api";
import { groupSecret, normalizeCode } from "./codeText";

/**
 * Setting up an authenticator app: scan the QR code (or type the key, or open the app on this
 * phone), then prove it works with a code. The answer holds the recovery codes when this is the
 * account's first second factor.
 */
export function TotpSetup({
  setup,
  onEnabled,
  onCancel,
}: {
  setup: Setup;
  /** On, with the recovery codes (if any) and how many other sessions were signed out. */
  onEnabled: (recoveryCodes: string[], otherSessionsEnded: number) => void;
  onCancel: () => void;
}) {
  const titleId = useId();
  const confirmed = useConfirmed();
  const confirm = useAction(confirmed((code: string) => totp.confirm(code)));

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const code = normalizeCode(String(new FormData(event.currentTarget).get("code") ?? ""));
    const result = await confirm.run(code);
    if (result.ok) onEnabled(result.data?.recovery_codes ?? [], result.data?.other_sessions_ended ?? 0);
  }

  return (
    <div className="totp-setup" role="group" aria-labelledby={titleId}>
      <h3 id={titleId}>Set up your authenticator app</h3>
      <ol className="steps">
        <li>
          <p>Scan this QR code with an authenticator app (for example Google Authenticator, Microsoft Authenticator, 2FAS or your password manager).</p>
          <img className="qr" src={setup.qr_svg} alt="QR code for your authenticator app" width={192} height={192} />
        </li>
        <li>
          <p>Can't scan it? Enter this setup key in the app instead (the spaces do not matter):</p>
          <p>
            <code className="secret">{groupSecret(setup.secret)}</code>
          </p>
          <p className="meta">
            On this phone? <a href={setup.otpauth_uri}>Open it in your authenticator app</a>.
          </p>
        </li>
        <li>
          <form onSubmit={(event) => void submit(event)} aria-label="Finish the setup">
            <p>Enter the code the app now shows for FARM Auth. Turning it on signs out your other sessions.</p>
            <Alert kind="error">{confirm.error}</Alert>
            <Field
              label="Authenticator code"
              name="code"
              type="text"
              inputMode="numeric"
              autoComplete="one-time-code"
              maxLength={9}
              required
            />
            <div className="method-actions">
              <SubmitButton busy={confirm.busy}>Turn on</SubmitButton>
              <button type="button" onClick={onCancel} disabled={confirm.busy}>
                Cancel setup
              </button>
            </div>
          </form>
        </li>
      </ol>
    </div>
  );
}
