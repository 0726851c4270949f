import { useEffect, useState } from "react";
import { Link, useSearchParams } from "react-router";

import { api } from "../api/client";
import { errorMessage } from "../api/errors";
import { useAuth } from "../auth/AuthProvider";
import { useOnceWhen } from "../components/once";
import { Alert, PublicPage, Spinner } from "../components/ui";

export function VerifyPage() {
  const [params] = useSearchParams();
  const token = params.get("token");
  const { state, reloadUser } = useAuth();
  const [outcome, setOutcome] = useState<{ ok: boolean; message: string } | null>(null);

  useOnceWhen(Boolean(token), () => {
    api
      .POST("/auth/verify", { body: { token: token ?? "" } })
      .then(({ data, error }) =>
        setOutcome(data ? { ok: true, message: `${data.email} is verified. Thank you!` } : { ok: false, message: errorMessage(error) }),
      )
      .catch(() => setOutcome({ ok: false, message: "The server could not be reached. Reload to try again." }));
  });

  const signedIn = state.status === "signed-in";
  useEffect(() => {
    if (outcome?.ok && signedIn) void reloadUser();
  }, [outcome, signedIn, reloadUser]);

  return (
    <PublicPage>
      <section aria-labelledby="verify-title" className="card">
        <h2 id="verify-title">Verify your email address</h2>
        {!token ? (
          <Alert kind="error">This page needs the link from your email.</Alert>
        ) : !outcome ? (
          <Spinner label="Verifying…" />
        ) : (
          <Alert kind={outcome.ok ? "success" : "error"}>{outcome.message}</Alert>
        )}
        <p className="links">
          {signedIn ? <Link to="/">Go to your tasks</Link> : <Link to="/login">Log in</Link>}
          {!outcome?.ok && signedIn && (
            <>
              {" · "}
              <Link to="/account">Send a new link</Link>
            </>
          )}
        </p>
      </section>
    </PublicPage>
  );
}
