import { useState } from "react";
import type { FormEvent } from "react";
import { Link } from "react-router";

import { Alert, Field, SubmitButton, useAction } from "../../components/ui";
import { api } from "../../lib/api/client";
import { usePageTitle } from "../../lib/pageTitle";

const TEXT = {
  title: "Forgot your password",
  heading: "Forgot your password?",
  intro: "Enter your email address and we will send you a link to choose a new password.",
  sent: (email: string) =>
    `If an account exists for ${email}, we have sent it a link to choose a new password. It works for one hour.`,
  email: "Email",
  submit: "Send the link",
  back: "Back to login",
};

export function ForgotPasswordPage() {
  usePageTitle(TEXT.title);
  const [sentTo, setSentTo] = useState<string | null>(null);
  const forgot = useAction((email: string) => api.POST("/auth/forgot-password", { body: { email } }));

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const email = String(new FormData(event.currentTarget).get("email"));
    if ((await forgot.run(email)).ok) setSentTo(email);
  }

  return (
    <section aria-labelledby="forgot-title" className="card">
      <h2 id="forgot-title">{TEXT.heading}</h2>
      {sentTo ? (
        <Alert kind="success">{TEXT.sent(sentTo)}</Alert>
      ) : (
        <p>{TEXT.intro}</p>
      )}
      <Alert kind="error">{forgot.error}</Alert>
      <form onSubmit={submit}>
        <Field label={TEXT.email} name="email" type="email" autoComplete="email" required />
        <SubmitButton busy={forgot.busy}>{TEXT.submit}</SubmitButton>
      </form>
      <p className="links">
        <Link to="/login">{TEXT.back}</Link>
      </p>
    </section>
  );
}
