import { useState } from "react";
import type { FormEvent } from "react";
import { Link } from "react-router";

import { Alert, Field, SubmitButton, useAction } from "../../components/ui";
import { api } from "../../lib/api/client";
import { usePageTitle } from "../../lib/pageTitle";

export function ForgotPasswordPage() {
  usePageTitle("Forgot your password");
  const [sentTo, setSentTo] = useState<string | null>(null);
  const forgot = useAction((email: string) => api.POST("/auth/forgot-password", { body: { email } }));

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const email = String(new FormData(event.currentTarget).get("email"));
    if ((await forgot.run(email)).ok) setSentTo(email);
  }

  return (
    <section aria-labelledby="forgot-title" className="card">
      <h2 id="forgot-title">Forgot your password?</h2>
      {sentTo ? (
        <Alert kind="success">
          If an account exists for {sentTo}, we have sent it a link to choose a new password. It works for one
          hour.
        </Alert>
      ) : (
        <p>Enter your email address and we will send you a link to choose a new password.</p>
      )}
      <Alert kind="error">{forgot.error}</Alert>
      <form onSubmit={submit}>
        <Field label="Email" name="email" type="email" autoComplete="email" required />
        <SubmitButton busy={forgot.busy}>Send the link</SubmitButton>
      </form>
      <p className="links">
        <Link to="/login">Back to login</Link>
      </p>
    </section>
  );
}
