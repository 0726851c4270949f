import { useCallback, useEffect, useState } from "react";
import type { ReactNode } from "react";
import { Link } from "react-router";

import { HolderProofForm, useLinkWithProof } from "../../components/HolderProof";
import { Alert, PublicPage, Spinner } from "../../components/ui";
import { emailChange } from "../../lib/api/account";
import { errorMessage } from "../../lib/api/errors";
import { useLinkToken, useOnceWhen } from "../../lib/once";
import { useAuth } from "../../lib/session";
import { usePageTitle } from "../../lib/pageTitle";

/** What a link did, in a sentence. */
interface Outcome {
  ok: boolean;
  message: string;
}

const TEXT = {
  unreachable: "The server could not be reached. Reload to try again.",
  noToken: "This page needs the link from your email.",
  toAccount: "Go to your account",
  login: "Log in",
  confirm: {
    title: "Confirm your new email address",
    busy: "Confirming your new address…",
    done: (email: string) => `Your address is now ${email}. Sign in with it from now on.`,
    action: "Move my account here",
  },
  cancel: {
    title: "Cancel the email change",
    busy: "Cancelling the change…",
    done:
      "The change was cancelled: the account keeps its current address, and the link sent to the new one no longer works.",
    notYou:
      "If you did not ask for this change, someone else may know your password: change it, and end the sessions you do not recognise.",
  },
};

const UNREACHABLE: Outcome = { ok: false, message: TEXT.unreachable };

/**
 * Where the link mailed to the new address lands: its token is spent once, and the account moves
 * there. It may open in another browser, signed out, or signed in as someone else: then the
 * account's password finishes it (whoever holds the new inbox but not the account cannot).
 */
export function EmailChangeConfirmPage() {
  const token = useLinkToken();
  const { state: auth, reloadUser } = useAuth();
  const send = useCallback((password?: string) => emailChange.confirm(token ?? "", password), [token]);
  const { state, start, withPassword } = useLinkWithProof(send);

  useOnceWhen(Boolean(token) && auth.status !== "unknown", start);

  // Signed in as the account that moved (now, or once the session is restored): show its new address.
  const signedInAs = auth.status === "signed-in" ? auth.userId : null;
  const movedId = state.phase === "done" ? state.data.id : null;
  useEffect(() => {
    if (movedId !== null && movedId === signedInAs) void reloadUser();
  }, [movedId, signedInAs, reloadUser]);

  const outcome: Outcome | null =
    state.phase === "done"
      ? { ok: true, message: TEXT.confirm.done(state.data.email) }
      : state.phase === "failed"
        ? { ok: false, message: state.message }
        : null;
  return (
    <LinkPage
      title={TEXT.confirm.title}
      token={token}
      outcome={outcome}
      busy={TEXT.confirm.busy}
      signedIn={signedInAs !== null}
    >
      {state.phase === "proof" && (
        <HolderProofForm
          proof={state.proof}
          busy={state.busy}
          error={state.error}
          returnTo="/account"
          action={TEXT.confirm.action}
          onPassword={(password) => void withPassword(password)}
        />
      )}
    </LinkPage>
  );
}

/** Where the link mailed to the old address lands: the pending change is dropped. */
export function EmailChangeCancelPage() {
  const token = useLinkToken();
  const { state } = useAuth();
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  useOnceWhen(Boolean(token), () => {
    emailChange
      .cancel(token ?? "")
      .then(({ error, response }) =>
        setOutcome(response.ok ? { ok: true, message: TEXT.cancel.done } : { ok: false, message: errorMessage(error) }),
      )
      .catch(() => setOutcome(UNREACHABLE));
  });

  return (
    <LinkPage
      title={TEXT.cancel.title}
      token={token}
      outcome={outcome}
      busy={TEXT.cancel.busy}
      signedIn={state.status === "signed-in"}
    >
      {outcome?.ok && <p>{TEXT.cancel.notYou}</p>}
    </LinkPage>
  );
}

function LinkPage({
  title,
  token,
  outcome,
  busy,
  signedIn,
  children,
}: {
  title: string;
  token: string | null;
  outcome: Outcome | null;
  busy: string;
  signedIn: boolean;
  children?: ReactNode;
}) {
  usePageTitle(title);
  return (
    <PublicPage>
      <section aria-labelledby="email-change-title" className="card">
        <h2 id="email-change-title">{title}</h2>
        {!token ? (
          <Alert kind="error">{TEXT.noToken}</Alert>
        ) : !outcome ? (
          !children && <Spinner label={busy} />
        ) : (
          <Alert kind={outcome.ok ? "success" : "error"}>{outcome.message}</Alert>
        )}
        {children}
        <p className="links">
          {signedIn ? <Link to="/account">{TEXT.toAccount}</Link> : <Link to="/login">{TEXT.login}</Link>}
        </p>
      </section>
    </PublicPage>
  );
}
