import { useCallback, useEffect } from "react";
import { Link, useSearchParams } from "react-router";

import { HolderProofForm, useLinkWithProof } from "../../components/HolderProof";
import { Alert, PublicPage, Spinner } from "../../components/ui";
import { verifyAddress } from "../../lib/api/account";
import { useOnceWhen } from "../../lib/once";
import { usePageTitle } from "../../lib/pageTitle";
import { useAuth } from "../../lib/session";
import { NewVerificationLink } from "./NewVerificationLink";

const TEXT = {
  title: "Verify your email address",
  noToken: "This page needs the link from your email.",
  verifying: "Verifying…",
  verified: (email: string) => `${email} is verified. Thank you!`,
  action: "Verify my address",
  didNotCreate: "Did not create this account?",
  notMe: "This wasn't me",
  toTasks: "Go to your tasks",
  login: "Log in",
};

/**
 * The verification link. It confirms the address only for whoever holds the account: this
 * browser signed in to it, or the account's password typed here. Someone who has the mailbox but
 * never made the account is offered "this wasn't me" instead.
 */
export function VerifyPage() {
  usePageTitle(TEXT.title);
  const [params] = useSearchParams();
  const token = params.get("token");
  const { state: auth, user, reloadUser } = useAuth();
  const send = useCallback((password?: string) => verifyAddress(token ?? "", password), [token]);
  const { state, start, withPassword } = useLinkWithProof(send);

  // Sent once the session (if any) is restored: signed in, the link needs nothing more.
  useOnceWhen(Boolean(token) && auth.status !== "unknown", start);

  const signedIn = auth.status === "signed-in";
  const done = state.phase === "done";
  useEffect(() => {
    if (done && signedIn) void reloadUser();
  }, [done, signedIn, reloadUser]);

  const here = `/verify?${new URLSearchParams({ token: token ?? "" }).toString()}`;
  return (
    <PublicPage>
      <section aria-labelledby="verify-title" className="card">
        <h2 id="verify-title">{TEXT.title}</h2>
        {!token ? (
          <>
            <Alert kind="error">{TEXT.noToken}</Alert>
            <NewVerificationLink email={signedIn && user && !user.is_verified ? user.email : null} />
          </>
        ) : state.phase === "sending" ? (
          <Spinner label={TEXT.verifying} />
        ) : state.phase === "done" ? (
          <Alert kind="success">{TEXT.verified(state.data.email)}</Alert>
        ) : state.phase === "failed" ? (
          <>
            <Alert kind="error">{state.message}</Alert>
            {!(signedIn && user?.is_verified) && <NewVerificationLink email={signedIn && user ? user.email : null} />}
          </>
        ) : (
          <>
            <HolderProofForm
              proof={state.proof}
              busy={state.busy}
              error={state.error}
              returnTo={here}
              action={TEXT.action}
              onPassword={(password) => void withPassword(password)}
            />
            {state.proof.canDecline && (
              <p className="links">
                {TEXT.didNotCreate}{" "}
                <Link to={`/verify/not-me?${new URLSearchParams({ token }).toString()}`}>{TEXT.notMe}</Link>
              </p>
            )}
          </>
        )}
        <p className="links">
          {signedIn ? <Link to="/">{TEXT.toTasks}</Link> : <Link to="/login">{TEXT.login}</Link>}
        </p>
      </section>
    </PublicPage>
  );
}
