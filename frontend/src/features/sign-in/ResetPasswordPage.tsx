import { useState } from "react";
import type { FormEvent } from "react";
import { Link, useSearchParams } from "react-router";

import { Alert, NewPasswordField, PublicPage, SubmitButton, useAction } from "../../components/ui";
import { api } from "../../lib/api/client";

export function ResetPasswordPage() {
  const [params] = useSearchParams();
  const token = params.get("token");
  const [done, setDone] = useState(false);
  const reset = useAction((password: string) =>
    api.POST("/auth/reset-password", { body: { token: token ?? "", password } }),
  );

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if ((await reset.run(String(new FormData(event.currentTarget).get("password")))).ok) setDone(true);
  }

  return (
    <PublicPage>
      <section aria-labelledby="reset-title" className="card">
        <h2 id="reset-title">Choose a new password</h2>
        {!token ? (
          <Alert kind="error">
            This page needs the link from your email. <Link to="/forgot-password">Ask for a new one.</Link>
          </Alert>
        ) : done ? (
          <>
            <Alert kind="success">Your password was reset and every session was signed out.</Alert>
            <p className="links">
              <Link to="/login">Log in with your new password</Link>
            </p>
          </>
        ) : (
          <>
            <Alert kind="error">{reset.error}</Alert>
            <form onSubmit={submit}>
              <NewPasswordField />
              <SubmitButton busy={reset.busy}>Set the new password</SubmitButton>
            </form>
            <p className="links">
              <Link to="/forgot-password">Ask for a new link</Link>
            </p>
          </>
        )}
      </section>
    </PublicPage>
  );
}
