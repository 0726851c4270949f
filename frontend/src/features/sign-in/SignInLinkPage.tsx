import { useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";

import { Alert, PublicPage, Spinner } from "../../components/ui";
import { useOnceWhen } from "../../lib/once";
import { useAuth } from "../../lib/session";
import { usePageTitle } from "../../lib/pageTitle";
import { SignInLinkForm } from "./SignInLinkForm";

const TEXT = {
  title: "Sign in with a link",
  unreachable: "The server could not be reached. Ask for a new link to try again.",
  signingIn: "Signing you in…",
  noToken: "This page needs the link from your email.",
  askAgain: "Ask for a new link",
  login: "Log in with your password",
};

/** Where a mailed sign-in link lands: its token is spent once, and the app is signed in. */
export function SignInLinkPage() {
  usePageTitle(TEXT.title);
  const [params] = useSearchParams();
  const token = params.get("token");
  const { state, signInWithLink } = useAuth();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);

  // After the page load's session restore: its refresh must not answer after this sign-in
  // and put back the session the browser had before.
  useOnceWhen(Boolean(token) && state.status !== "unknown", () => {
    signInWithLink(token ?? "")
      .then((failure) => {
        if (failure === null) return navigate("/", { replace: true });
        // The link was right; the account has a second factor. Replace: the link is spent.
        if (failure.challenge) return navigate("/sign-in/mfa", { replace: true, state: { challenge: failure.challenge } });
        setError(failure.message);
      })
      .catch(() => setError(TEXT.unreachable));
  });

  return (
    <PublicPage>
      <section aria-labelledby="sign-in-link-title" className="card">
        <h2 id="sign-in-link-title">{TEXT.title}</h2>
        {token && !error ? (
          <Spinner label={TEXT.signingIn} />
        ) : (
          <>
            <Alert kind="error">{error ?? TEXT.noToken}</Alert>
            <h3>{TEXT.askAgain}</h3>
            <SignInLinkForm />
            <p className="links">
              <Link to="/login">{TEXT.login}</Link>
            </p>
          </>
        )}
      </section>
    </PublicPage>
  );
}
