import { useState } from "react";
import type { FormEvent, ReactNode } from "react";
import { Link, useLocation, useNavigate } from "react-router";

import { Alert, Field, SubmitButton } from "../../components/ui";
import type { Notice } from "../../components/ui";
import { UNREACHABLE } from "../../lib/api/errors";
import { usePageTitle } from "../../lib/pageTitle";
import { useAuth } from "../../lib/session";
import type { SignOutReason } from "../../lib/tokens/tokenManager";
import { ProviderButtons } from "./ProviderButtons";
import { SignInLinkForm } from "./SignInLinkForm";

const TEXT = {
  title: "Log in",
  email: "Email",
  password: "Password",
  submit: "Log in",
  forgot: "Forgot your password?",
  or: "or",
  byLink: "Email me a sign-in link",
  byPassword: "Log in with a password instead",
  otherWays: "Other ways to sign in",
  newHere: "New here?",
  register: "Create an account",
  reasons: {
    ended:
      "Your session was ended — from another device, by a password change, or for your safety. Please sign in again.",
    expired: "Your session expired. Please sign in again.",
    "other-tab": "You logged out in another tab.",
    logout: "You are logged out.",
    deleted: "Your account was deleted, with everything in it. Thank you for having used FARM Auth.",
    unavailable: "The server could not be reached to keep you signed in. Reload the page in a moment, or sign in again.",
  } satisfies Record<SignOutReason, string>,
};

/**
 * Log in: the password form first and foremost; then, set apart and alike, the other ways in —
 * an emailed link, the ways the app adds (`otherWays`: a passkey's button,
 * app/routes/LoginRoute.tsx, which may tell the person something through `notify`), providers.
 */
export function LoginPage({ otherWays }: { otherWays?: (notify: (notice: Notice) => void) => ReactNode }) {
  usePageTitle(TEXT.title);
  const { state, login } = useAuth();
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<Notice>(null);
  const [byLink, setByLink] = useState(false);
  const location = useLocation();
  const navigate = useNavigate();
  // Where the person was heading (RequireAuth), and why they are back here (an expired second step).
  const { from, notice } = (location.state ?? {}) as { from?: string; notice?: string };
  const reason = state.status === "signed-out" ? state.reason : null;

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setMessage(null);
    try {
      const failure = await login(String(form.get("email")), String(form.get("password")));
      if (failure?.challenge) {
        // The password was right; the account has a second factor. The ticket travels in state,
        // not in the address, so it stays out of the history.
        void navigate("/sign-in/mfa", { state: { challenge: failure.challenge, from } });
        return;
      }
      setMessage(failure && { kind: "error", text: failure.message });
    } catch {
      setMessage({ kind: "error", text: UNREACHABLE });
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="login-title" className="card">
      <h2 id="login-title">{TEXT.title}</h2>
      {!message && <Alert kind="info">{notice ?? (reason && TEXT.reasons[reason])}</Alert>}
      {message && <Alert kind={message.kind}>{message.text}</Alert>}
      {byLink ? (
        <>
          <SignInLinkForm autoFocus />
          <p className="links">
            <button type="button" className="link" onClick={() => setByLink(false)}>
              {TEXT.byPassword}
            </button>
          </p>
        </>
      ) : (
        <form onSubmit={submit} className="login-form">
          {/* "webauthn": the browser may offer this site's passkeys in the field's suggestions. */}
          <Field label={TEXT.email} name="email" type="email" autoComplete="username webauthn" required />
          <Field label={TEXT.password} name="password" type="password" autoComplete="current-password" required />
          <p className="field-aside">
            <Link to="/forgot-password">{TEXT.forgot}</Link>
          </p>
          <SubmitButton busy={busy} wide>
            {TEXT.submit}
          </SubmitButton>
        </form>
      )}
      <p className="divider" aria-hidden="true">
        <span>{TEXT.or}</span>
      </p>
      <div className="alt-sign-ins" role="group" aria-label={TEXT.otherWays}>
        {otherWays?.(setMessage)}
        {!byLink && (
          <button type="button" className="alt-sign-in" onClick={() => setByLink(true)}>
            {TEXT.byLink}
          </button>
        )}
        <ProviderButtons />
      </div>
      <p className="links">
        {TEXT.newHere} <Link to="/register">{TEXT.register}</Link>
      </p>
    </section>
  );
}
