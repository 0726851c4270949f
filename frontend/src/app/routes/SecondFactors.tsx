import { useCallback, useEffect, useState } from "react";

import { Alert, Spinner, useAction } from "../../components/ui";
import { Passkeys } from "../../features/passkeys/Passkeys";
import { RecoveryCodesItem } from "../../features/recovery-codes/RecoveryCodesItem";
import { RecoveryCodesPanel } from "../../features/recovery-codes/RecoveryCodesPanel";
import { AuthenticatorApp } from "../../features/totp/AuthenticatorApp";
import { secondFactors } from "../../lib/api/secondFactors";
import type { MfaStatus } from "../../lib/api/secondFactors";
import type { FactorsProps } from "../../lib/factors";
import { useAuth } from "../../lib/session";

/**
 * The account page's second factors, over one `GET /auth/mfa`: the authenticator app with the
 * recovery codes, and passkeys, three features that share this status through `FactorsProps`.
 * New recovery codes, from whichever of them made them, are shown here once.
 */
export function SecondFactors() {
  const { user } = useAuth();
  const [status, setStatus] = useState<MfaStatus | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const load = useAction(() => secondFactors.status());
  const fetchStatus = load.run;

  const reload = useCallback(async () => {
    const result = await fetchStatus();
    if (result.ok && result.data) setStatus(result.data);
  }, [fetchStatus]);

  useEffect(() => {
    void reload();
  }, [reload]);

  const showCodes = useCallback((next: string[]) => {
    if (next.length > 0) setCodes(next);
  }, []);

  if (!status) {
    return (
      <section className="card" aria-labelledby="two-step-title">
        <h2 id="two-step-title">Two-step sign-in</h2>
        <Alert kind="error">{load.error}</Alert>
        {!load.error && <Spinner label="Loading your second factors…" />}
      </section>
    );
  }

  const props: FactorsProps = { status, onStatus: setStatus, reload, onCodes: showCodes };
  return (
    <>
      {codes && (
        <div className="card">
          <RecoveryCodesPanel codes={codes} account={user?.email ?? "your account"} onDone={() => setCodes(null)} />
        </div>
      )}
      <AuthenticatorApp {...props} more={<RecoveryCodesItem {...props} />} />
      <Passkeys {...props} />
    </>
  );
}
