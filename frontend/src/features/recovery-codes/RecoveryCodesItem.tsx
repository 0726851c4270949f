import { useState } from "react";
import type { FormEvent } from "react";

import { Alert, useAction } from "../../components/ui";
import { useConfirmed } from "../../lib/confirmation";
import { signedOutText } from "../../lib/factors";
import type { FactorsProps } from "../../lib/factors";
import { recoveryCodes } from "./api";

const FEW_CODES_LEFT = 3;

/**
 * The recovery codes' line in the "Two-step sign-in" card: how many are left, and new ones (asked
 * first, with "sign out my other sessions" ticked). Shown once the account has a second factor.
 */
export function RecoveryCodesItem({ status, reload, onCodes }: FactorsProps) {
  const confirmed = useConfirmed();
  const [asking, setAsking] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const regenerate = useAction(confirmed((endOthers: boolean) => recoveryCodes.renew(endOthers)));
  if (status.methods.length === 0) return null;

  async function newCodes(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const endOthers = new FormData(event.currentTarget).get("end_others") === "on";
    setNotice(null);
    const result = await regenerate.run(endOthers);
    if (result.ok && result.data) {
      setAsking(false);
      onCodes(result.data.recovery_codes);
      const ended = signedOutText(result.data.other_sessions_ended ?? 0);
      setNotice(`New recovery codes are ready; the old ones no longer work. ${ended}`.trim());
      await reload();
    }
  }

  const left = status.recovery_codes_left;
  return (
    <li className="method">
      <div>
        <strong>Recovery codes</strong>
        {left <= FEW_CODES_LEFT && <span className="badge warn">{left === 0 ? "none left" : "few left"}</span>}
        <div className="meta">
          {left} unused recovery code{left === 1 ? "" : "s"} left. Each works once, when you cannot use your other
          factors.
        </div>
      </div>
      {!asking && (
        <button
          type="button"
          disabled={regenerate.busy}
          onClick={() => {
            setNotice(null);
            setAsking(true);
          }}
        >
          New recovery codes
        </button>
      )}
      <Alert kind="success">{notice}</Alert>
      <Alert kind="error">{regenerate.error}</Alert>
      {asking && (
        <form className="confirm-inline" onSubmit={(event) => void newCodes(event)} aria-label="Make new recovery codes">
          <p>Make new recovery codes? The ones you have now stop working.</p>
          <label className="check">
            <input type="checkbox" name="end_others" defaultChecked /> Sign out my other sessions too
          </label>
          <div className="method-actions">
            <button type="submit" className="primary" disabled={regenerate.busy} aria-busy={regenerate.busy} autoFocus>
              {regenerate.busy ? "Working…" : "Make new codes"}
            </button>
            <button type="button" disabled={regenerate.busy} onClick={() => setAsking(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </li>
  );
}
