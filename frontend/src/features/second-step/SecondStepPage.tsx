import { useEffect, useState } from "react";
import { Link, useLocation, useNavigate, useSearchParams } from "react-router";

import { ProofForm } from "../../components/ProofForm";
import { Alert, PublicPage, Spinner } from "../../components/ui";
import { errorMessage } from "../../lib/api/errors";
import type { Proof } from "../../lib/api/secondFactors";
import { challengeFromQuery, challengeFromState, errorCode } from "../../lib/challenge";
import { useAuth } from "../../lib/session";
import { usePageTitle } from "../../lib/pageTitle";

const TEXT = {
  title: "Two-step sign-in",
  expired: "This sign-in has expired. Please sign in again.",
  noChallenge: "This page continues a sign-in, and there is none to continue. Please sign in.",
  backToLogin: "Back to log in",
  wait: "Just a moment…",
  intro: "Your first step was right. Now show it's you with your second factor.",
  submit: "Verify",
  startOver: "Cancel and start over",
};

/** Only a path of this app: `from` comes from navigation state, but a link could put anything there. */
function safeFrom(from: unknown): string {
  return typeof from === "string" && from.startsWith("/") && !from.startsWith("//") ? from : "/";
}

/**
 * The second step of signing in: the first factor was right and the account has a second one.
 * The ticket comes in navigation state (login, sign-in link) or in the query string (the
 * backend's redirect after a provider), which is then replaced so it leaves the address bar.
 */
export function SecondStepPage() {
  usePageTitle(TEXT.title);
  const location = useLocation();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const { state, verifySecondFactor } = useAuth();
  const [challenge] = useState(() => challengeFromState(location.state) ?? challengeFromQuery(params));
  const from = safeFrom((location.state as { from?: unknown } | null)?.from);

  useEffect(() => {
    if (challenge && (params.has("ticket") || params.has("methods"))) {
      // Keep it in history state (a reload still works), out of the address and the history list.
      void navigate(location.pathname, { replace: true, state: { challenge, from } });
    }
  }, [challenge, params, navigate, location.pathname, from]);

  function startOver(message: string) {
    void navigate("/login", { replace: true, state: { notice: message } });
  }

  async function prove(proof: Proof): Promise<string | null> {
    if (!challenge) return TEXT.expired;
    const failure = await verifySecondFactor(challenge.ticket, proof);
    if (failure === null) {
      void navigate(from, { replace: true });
      return null;
    }
    if (failure.code === "MFA_TICKET_INVALID") {
      startOver(failure.message);
      return null;
    }
    return failure.message;
  }

  /** The server would not start a passkey's ceremony for this ticket: it expired. */
  function refused(error: unknown): boolean {
    if (errorCode(error) !== "MFA_TICKET_INVALID") return false;
    startOver(errorMessage(error, TEXT.expired));
    return true;
  }

  return (
    <PublicPage>
      <section aria-labelledby="mfa-title" className="card">
        <h2 id="mfa-title">{TEXT.title}</h2>
        {!challenge ? (
          <>
            <Alert kind="error">{TEXT.noChallenge}</Alert>
            <p className="links">
              <Link to="/login">{TEXT.backToLogin}</Link>
            </p>
          </>
        ) : state.status === "unknown" ? (
          // The page load's session restore first: its answer must not land after this sign-in.
          <Spinner label={TEXT.wait} />
        ) : (
          <>
            <p>{TEXT.intro}</p>
            <ProofForm
              methods={challenge.methods}
              purpose={{ purpose: "second_factor", ticket: challenge.ticket }}
              submitLabel={TEXT.submit}
              onProof={prove}
              onRefusal={refused}
            />
            <p className="links">
              <Link to="/login" replace>{TEXT.startOver}</Link>
            </p>
          </>
        )}
      </section>
    </PublicPage>
  );
}
