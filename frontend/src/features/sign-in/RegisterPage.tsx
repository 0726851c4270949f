import { useEffect, useRef, useState } from "react";
import type { FormEvent, ReactNode } from "react";
import { Link, useLocation, useNavigate } from "react-router";

import { CheckInbox } from "../../components/CheckInbox";
import { Alert, Field, NewPasswordField, SubmitButton } from "../../components/ui";
import { api } from "../../lib/api/client";
import { errorMessage, fieldErrors, UNREACHABLE } from "../../lib/api/errors";
import { errorCode } from "../../lib/challenge";
import { usePageTitle } from "../../lib/pageTitle";
import { useAuth } from "../../lib/session";
import { ProviderButtons } from "./ProviderButtons";

const TEXT = {
  title: "Create an account",
  email: "Email",
  password: "Password",
  submit: "Create account",
  exists: "An account with this address exists already.",
  login: "Log in",
  reset: "reset its password",
  existsHelp: (login: ReactNode, reset: ReactNode) => (
    <>
      Is it yours? {login}, or {reset} if you forgot it.
    </>
  ),
  ready: "Your account is ready.",
  already: "Already registered?",
};

type Problem = { field: "email" | "password" | null; text: string; exists?: boolean };

/** Why registering failed, by the field at fault: the API's reason in plain words. */
function problemOf(error: unknown): Problem {
  const code = errorCode(error);
  if (code === "REGISTER_USER_ALREADY_EXISTS") return { field: "email", text: TEXT.exists, exists: true };
  if (code === "REGISTER_INVALID_PASSWORD") return { field: "password", text: errorMessage(error) };
  const fields = fieldErrors(error);
  if (fields.email) return { field: "email", text: fields.email };
  if (fields.password) return { field: "password", text: fields.password };
  return { field: null, text: errorMessage(error) };
}

export function RegisterPage() {
  usePageTitle(TEXT.title);
  const { login } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  // Made, but this server lets nobody in before the address is confirmed.
  const [waiting, setWaiting] = useState<string | null>(null);
  const form = useRef<HTMLFormElement>(null);
  // A refusal by a field: the focus goes there, so it is read out with its reason (WCAG 3.3.1).
  useEffect(() => {
    if (problem?.field) (form.current?.elements.namedItem(problem.field) as HTMLInputElement | null)?.focus();
  }, [problem]);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const email = String(form.get("email") ?? "").trim();
    const password = String(form.get("password") ?? "");
    setBusy(true);
    setProblem(null);
    try {
      const { error } = await api.POST("/auth/register", { body: { email, password } });
      if (error !== undefined) {
        setProblem(problemOf(error));
        return;
      }
      // Signed in, the guard sends the new account to the first-run page.
      void navigate(location.pathname, { replace: true, state: { from: "/welcome" } });
      const failure = await login(email, password);
      if (failure) setWaiting(email);
    } catch {
      setProblem({ field: null, text: UNREACHABLE });
    } finally {
      setBusy(false);
    }
  }

  if (waiting) {
    return (
      <section aria-labelledby="register-title" className="card">
        <h2 id="register-title">{TEXT.ready}</h2>
        <CheckInbox email={waiting} signedIn={false} />
        <p className="links">
          <Link to="/login">{TEXT.login}</Link>
        </p>
      </section>
    );
  }

  return (
    <section aria-labelledby="register-title" className="card">
      <h2 id="register-title">{TEXT.title}</h2>
      {problem?.field === null && <Alert kind="error">{problem.text}</Alert>}
      <form ref={form} onSubmit={(event) => void submit(event)} noValidate>
        <Field
          label={TEXT.email}
          name="email"
          type="email"
          autoComplete="email"
          required
          error={problem?.field === "email" ? problem.text : null}
        />
        {problem?.exists && (
          <p className="field-aside">
            {TEXT.existsHelp(<Link to="/login">{TEXT.login}</Link>, <Link to="/forgot-password">{TEXT.reset}</Link>)}
          </p>
        )}
        <NewPasswordField label={TEXT.password} error={problem?.field === "password" ? problem.text : null} />
        <SubmitButton busy={busy} wide>
          {TEXT.submit}
        </SubmitButton>
      </form>
      <ProviderButtons divider />
      <p className="links">
        {TEXT.already} <Link to="/login">{TEXT.login}</Link>
      </p>
    </section>
  );
}
