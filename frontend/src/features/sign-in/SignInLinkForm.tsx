import { useState } from "react";
import type { FormEvent } from "react";

import { Alert, Field, SubmitButton, useAction } from "../../components/ui";
import { api } from "../../lib/api/client";

/** Ask for a one-time sign-in link by email. The server answers alike for any address. */
export function SignInLinkForm({ autoFocus = false }: { autoFocus?: boolean }) {
  const [sent, setSent] = useState(false);
  const ask = useAction((email: string) => api.POST("/auth/sign-in-link", { body: { email } }));

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setSent(false);
    if ((await ask.run(String(new FormData(event.currentTarget).get("email")))).ok) setSent(true);
  }

  return (
    <form onSubmit={submit} aria-label="Ask for a sign-in link">
      {sent && (
        <Alert kind="success">
          If an account exists for that address, we sent a sign-in link. It works once, for 15 minutes.
        </Alert>
      )}
      <Alert kind="error">{ask.error}</Alert>
      <Field label="Email" name="email" type="email" autoComplete="email" autoFocus={autoFocus} required />
      <SubmitButton busy={ask.busy}>Send me a sign-in link</SubmitButton>
    </form>
  );
}
