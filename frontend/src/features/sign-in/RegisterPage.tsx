import { useState } from "react";
import type { FormEvent } from "react";
import { Link } from "react-router";

import { Alert, Field, NewPasswordField, SubmitButton, useAction } from "../../components/ui";
import { api } from "../../lib/api/client";
import { useAuth } from "../../lib/session";
import { ProviderButtons } from "./ProviderButtons";

export function RegisterPage() {
  const { login } = useAuth();
  const [created, setCreated] = useState<string | null>(null);
  const register = useAction((email: string, password: string) =>
    api.POST("/auth/register", { body: { email, password } }),
  );

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const email = String(form.get("email"));
    const password = String(form.get("password"));
    if ((await register.run(email, password)).ok) {
      // Straight in; if the server wants a verified address first, say where the link went.
      const failure = await login(email, password);
      if (failure) setCreated(`Your account is ready. ${failure}`);
    }
  }

  return (
    <section aria-labelledby="register-title" className="card">
      <h2 id="register-title">Create an account</h2>
      <Alert kind="success">{created}</Alert>
      <Alert kind="error">{register.error}</Alert>
      <form onSubmit={submit}>
        <Field label="Email" name="email" type="email" autoComplete="email" required />
        <NewPasswordField label="Password" />
        <SubmitButton busy={register.busy}>Create account</SubmitButton>
      </form>
      <ProviderButtons />
      <p className="links">
        Already registered? <Link to="/login">Log in</Link>
      </p>
    </section>
  );
}
