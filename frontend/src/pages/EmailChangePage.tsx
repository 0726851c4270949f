import { useEffect, useState } from "react";
import type { ReactNode } from "react";
import { Link } from "react-router";

import { emailChange } from "../api/account";
import { errorMessage } from "../api/errors";
import { useAuth } from "../auth/AuthProvider";
import { useLinkToken, useOnceWhen } from "../components/once";
import { Alert, PublicPage, Spinner } from "../components/ui";

/** What a link did: a sentence, and the account it moved (to reload it if it is the one signed in). */
interface Outcome {
  ok: boolean;
  message: string;
  userId?: string;
}

const UNREACHABLE: Outcome = { ok: false, message: "The server could not be reached. Reload to try again." };

/**
 * Where the link mailed to the new address lands: its token is spent once, and the account moves
 * there. It may open in another browser, signed out, or signed in as someone else.
 */
export function EmailChangeConfirmPage() {
  const token = useLinkToken();
  const { state, reloadUser } = useAuth();
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  useOnceWhen(Boolean(token), () => {
    emailChange
      .confirm(token ?? "")
      .then(({ data, error }) =>
        setOutcome(
          data
            ? { ok: true, message: `Your address is now ${data.email}. Sign in with it from now on.`, userId: data.id }
            : { ok: false, message: errorMessage(error) },
        ),
      )
      .catch(() => setOutcome(UNREACHABLE));
  });

  // Signed in as the account that moved (now, or once the session is restored): show its new address.
  const signedInAs = state.status === "signed-in" ? state.userId : null;
  useEffect(() => {
    if (outcome?.userId !== undefined && outcome.userId === signedInAs) void reloadUser();
  }, [outcome, signedInAs, reloadUser]);

  return (
    <LinkPage
      title="Confirm your new email address"
      token={token}
      outcome={outcome}
      busy="Confirming your new address…"
      signedIn={signedInAs !== null}
    />
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
        setOutcome(
          response.ok
            ? {
                ok: true,
                message:
                  "The change was cancelled: the account keeps its current address, and the link sent to the new one no longer works.",
              }
            : { ok: false, message: errorMessage(error) },
        ),
      )
      .catch(() => setOutcome(UNREACHABLE));
  });

  return (
    <LinkPage title="Cancel the email change" token={token} outcome={outcome} busy="Cancelling the change…" signedIn={state.status === "signed-in"}>
      {outcome?.ok && (
        <p>
          If you did not ask for this change, someone else may know your password: change it, and end the sessions you
          do not recognise.
        </p>
      )}
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
  return (
    <PublicPage>
      <section aria-labelledby="email-change-title" className="card">
        <h2 id="email-change-title">{title}</h2>
        {!token ? (
          <Alert kind="error">This page needs the link from your email.</Alert>
        ) : !outcome ? (
          <Spinner label={busy} />
        ) : (
          <Alert kind={outcome.ok ? "success" : "error"}>{outcome.message}</Alert>
        )}
        {children}
        <p className="links">
          {signedIn ? <Link to="/account">Go to your account</Link> : <Link to="/login">Log in</Link>}
        </p>
      </section>
    </PublicPage>
  );
}
