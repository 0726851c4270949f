import { useState } from "react";
import type { FormEvent } from "react";

import { Alert, Field, NewPasswordField, SubmitButton, useAction } from "../../components/ui";
import { api } from "../../lib/api/client";
import { useConfirmed } from "../../lib/confirmation";

/** The account page's "Change password", with the current one; the other sessions end.
 * `email` is the account's, so the meter refuses a password made of it, as the server will. */
export function ChangePassword({ email }: { email: string }) {
  const confirmed = useConfirmed();
  const [notice, setNotice] = useState<string | null>(null);
  const change = useAction(
    confirmed((current_password: string, new_password: string) =>
      api.POST("/users/me/password", { body: { current_password, new_password } }),
    ),
  );

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    if ((await change.run(String(data.get("current")), String(data.get("new")))).ok) {
      form.reset();
      setNotice("Password changed. Your other sessions were signed out.");
    }
  }

  return (
    // A new attempt: the message about the last one goes.
    <form className="card" onSubmit={(event) => void submit(event)} onChange={() => setNotice(null)} aria-labelledby="password-title">
      <h2 id="password-title">Change password</h2>
      <Alert kind="success">{notice}</Alert>
      <Alert kind="error">{change.error}</Alert>
      <Field label="Current password" name="current" type="password" autoComplete="current-password" required />
      <NewPasswordField name="new" email={email} />
      <SubmitButton busy={change.busy}>Change password</SubmitButton>
    </form>
  );
}
