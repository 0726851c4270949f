import { useCallback, useEffect, useState } from "react";
import type { FormEvent } from "react";

import { Alert, Field, Spinner, SubmitButton, useAction } from "../../components/ui";
import { emailChange } from "../../lib/api/account";
import type { PendingEmailChange } from "../../lib/api/account";
import { useConfirmed } from "../../lib/confirmation";
import { exactTime } from "../../lib/device";
import { useAuth } from "../../lib/session";

/**
 * The account page's "Change email": a confirmation link goes to the new address, and nothing
 * changes until it is opened. A change waiting for its link is shown (loaded with the page), with
 * "Cancel the change" and "Send again".
 */
export function ChangeEmail({ email }: { email: string }) {
  const { reloadUser } = useAuth();
  const confirmed = useConfirmed();
  // undefined: not known yet; null: no change is waiting.
  const [pending, setPending] = useState<PendingEmailChange | null | undefined>(undefined);
  const [notice, setNotice] = useState<string | null>(null);
  const load = useAction(() => emailChange.pending());
  const request = useAction(confirmed((address: string) => emailChange.request(address)));
  const cancel = useAction(() => emailChange.cancelMine());
  const fetchPending = load.run;

  const reload = useCallback(async () => {
    const result = await fetchPending();
    if (result.ok && result.data) setPending(result.data.pending);
  }, [fetchPending]);

  useEffect(() => {
    void reload();
  }, [reload]);

  async function ask(address: string, again: boolean): Promise<boolean> {
    setNotice(null);
    const result = await request.run(address);
    if (!result.ok || !result.data) return false;
    const { new_email, expires_at } = result.data;
    setPending({ new_email, expires_at, requested_at: new Date().toISOString() });
    setNotice(
      again
        ? `We sent a new link to ${new_email}; the one sent before no longer works.`
        : `We sent a confirmation link to ${new_email}. Your address changes once you open it.`,
    );
    return true;
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    if (await ask(String(new FormData(form).get("email")), false)) form.reset();
  }

  async function cancelChange() {
    setNotice(null);
    if ((await cancel.run()).ok) {
      setPending(null);
      setNotice(`The change was cancelled. Your address stays ${email}.`);
      void reloadUser(); // had the link been opened meanwhile (elsewhere), the address shown follows
    }
  }

  const busy = request.busy || cancel.busy;
  return (
    <section className="card" aria-labelledby="email-title">
      <h2 id="email-title">Change email</h2>
      <Alert kind="success">{notice}</Alert>
      <Alert kind="error">{request.error ?? cancel.error ?? load.error}</Alert>
      {pending === undefined && !load.error && <Spinner label="Loading…" />}
      {pending && (
        <div className="pending-change">
          <p>
            Waiting for confirmation of <strong>{pending.new_email}</strong> until{" "}
            <time dateTime={pending.expires_at}>{exactTime(pending.expires_at)}</time>. Open the link we sent to that
            address; until then you keep signing in with <strong>{email}</strong>.
          </p>
          <div className="method-actions">
            <button type="button" onClick={() => void cancelChange()} disabled={busy} aria-busy={cancel.busy}>
              {cancel.busy ? "Cancelling…" : "Cancel the change"}
            </button>
            <button type="button" onClick={() => void ask(pending.new_email, true)} disabled={busy} aria-busy={request.busy}>
              {request.busy ? "Sending…" : "Send again"}
            </button>
          </div>
        </div>
      )}
      <form onSubmit={submit} onChange={() => setNotice(null)}>
        <Field
          label="New email"
          name="email"
          type="email"
          autoComplete="email"
          required
          hint={
            pending
              ? "Another address replaces the one waiting: its link stops working."
              : "We send a confirmation link to the new address. Nothing changes until you open it."
          }
        />
        <SubmitButton busy={request.busy}>Change email</SubmitButton>
      </form>
    </section>
  );
}
