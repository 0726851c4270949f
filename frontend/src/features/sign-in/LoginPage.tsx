import { useState } from "react";
import type { FormEvent, ReactNode } from "react";
import { Link, useLocation, useNavigate } from "react-router";

import { Alert, Field, SubmitButton } from "../../components/ui";
import type { Notice } from "../../components/ui";
import { useAuth } from "../../lib/session";
import type { SignOutReason } from "../../lib/tokens/tokenManager";
import { ProviderButtons } from "./ProviderButtons";
import { SignInLinkForm } from "./SignInLinkForm";

const REASONS: Record<SignOutReason, string> = {
  ended:
    "Your session was ended — from another device, by a password change, or for your safety. Please sign in again.",
  expired: "Your session expired. Please sign in again.",
  "other-tab": "You logged out in another tab.",
  logout: "You are logged out.",
  deleted: "Your account was deleted, with everything in it. Thank you for having used FARM Auth.",
};

/**
 * Log in: a password, an emailed link, the providers, and the other ways in the app adds
 * (`otherWays`: a passkey's button, app/routes/LoginRoute.tsx), which may tell the person
 * something through `notify`.
 */
export function LoginPage({ otherWays }: { otherWays?: (notify: (notice: Notice) => void) => ReactNode }) {
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
      setMessage({ kind: "error", text: "The server could not be reached. Check your connection and try again." });
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="login-title" className="card">
      <h2 id="login-title">Log in</h2>
      {!message && <Alert kind="info">{notice ?? (reason && REASONS[reason])}</Alert>}
      {message && <Alert kind={message.kind}>{message.text}</Alert>}
      {byLink ? (
        <>
          <SignInLinkForm autoFocus />
          <p className="links">
            <button type="button" onClick={() => setByLink(false)}>
              Log in with a password instead
            </button>
          </p>
        </>
      ) : (
        <>
          <form onSubmit={submit}>
            <Field label="Email" name="email" type="email" autoComplete="username" required />
            <Field label="Password" name="password" type="password" autoComplete="current-password" required />
            <SubmitButton busy={busy}>Log in</SubmitButton>
          </form>
          <p className="links">
            <button type="button" onClick={() => setByLink(true)}>
              Email me a sign-in link
            </button>
          </p>
        </>
      )}
      {otherWays?.(setMessage)}
      <ProviderButtons />
      <p className="links">
        <Link to="/forgot-password">Forgot your password?</Link> · <Link to="/register">Create an account</Link>
      </p>
    </section>
  );
}
