import { useCallback, useEffect, useState } from "react";

import { secondFactors } from "../api/secondFactors";
import type { MfaStatus } from "../api/secondFactors";
import { useAuth } from "../auth/AuthProvider";
import { RecoveryCodesPanel } from "../components/RecoveryCodesPanel";
import { Alert, Spinner, useAction } from "../components/ui";
import { Passkeys } from "./Passkeys";
import { TwoStepSignIn } from "./TwoStepSignIn";

/** What the account sections about second factors share: the status, and codes to show once. */
export interface FactorsProps {
  status: MfaStatus;
  /** The server answered the new status (say, after turning TOTP off). */
  onStatus: (status: MfaStatus) => void;
  /** Ask the server for the status again. */
  reload: () => Promise<void>;
  /** New recovery codes to show, once. */
  onCodes: (codes: string[]) => void;
}

/** The account page's two-step sign-in and passkeys, over one `GET /auth/mfa`. */
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
      <TwoStepSignIn {...props} />
      <Passkeys {...props} />
    </>
  );
}
