import { useEffect, useState } from "react";
import type { FormEvent } from "react";
import { Link, useSearchParams } from "react-router";

import { Alert, NewPasswordField, PublicPage, Spinner, SubmitButton, useAction } from "../../components/ui";
import { api } from "../../lib/api/client";
import { errorCode } from "../../lib/challenge";
import { usePageTitle } from "../../lib/pageTitle";

const TEXT = {
  title: "Choose a new password",
  checking: "Checking the link…",
  noToken: "This page needs the link from your email.",
  dead: "This link no longer works: it was used already, it expired (links work for an hour), or a newer one was sent.",
  askAgain: "Ask for a new link",
  submit: "Set the new password",
  done: "Your password was reset and every session was signed out.",
  login: "Log in with your new password",
};

type Link_ = "checking" | "good" | "dead";

export function ResetPasswordPage() {
  usePageTitle(TEXT.title);
  const [params] = useSearchParams();
  const token = params.get("token");
  const [link, setLink] = useState<Link_>("checking");
  const [done, setDone] = useState(false);
  const reset = useAction((password: string) =>
    api.POST("/auth/reset-password", { body: { token: token ?? "", password } }),
  );

  // Ask first whether the link still works: a dead one gets no form to fill in for nothing.
  useEffect(() => {
    if (!token) return;
    let live = true;
    api
      .POST("/auth/reset-password/check", { body: { token } })
      .then(({ error, response }) => {
        if (!live) return;
        setLink(response.ok ? "good" : errorCode(error) === "RESET_PASSWORD_BAD_TOKEN" ? "dead" : "good");
      })
      .catch(() => live && setLink("good")); // unreachable now: the form says so when sent
    return () => {
      live = false;
    };
  }, [token]);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const result = await reset.run(String(new FormData(event.currentTarget).get("password")));
    if (result.ok) setDone(true);
  }

  // Refused when sent (used meanwhile in another tab): the form goes, as for a dead link.
  const deadNow = link === "dead" || /invalid, used or expired/.test(reset.error ?? "");

  return (
    <PublicPage>
      <section aria-labelledby="reset-title" className="card">
        <h2 id="reset-title">{TEXT.title}</h2>
        {!token ? (
          <>
            <Alert kind="error">{TEXT.noToken}</Alert>
            <p className="links">
              <Link to="/forgot-password">{TEXT.askAgain}</Link>
            </p>
          </>
        ) : done ? (
          <>
            <Alert kind="success">{TEXT.done}</Alert>
            <p className="links">
              <Link to="/login">{TEXT.login}</Link>
            </p>
          </>
        ) : deadNow ? (
          <>
            <Alert kind="error">{TEXT.dead}</Alert>
            <p className="links">
              <Link to="/forgot-password" className="button primary">
                {TEXT.askAgain}
              </Link>
            </p>
          </>
        ) : link === "checking" ? (
          <Spinner label={TEXT.checking} />
        ) : (
          <>
            <form onSubmit={(event) => void submit(event)}>
              <NewPasswordField error={reset.error} />
              <SubmitButton busy={reset.busy}>{TEXT.submit}</SubmitButton>
            </form>
            <p className="links">
              <Link to="/forgot-password">{TEXT.askAgain}</Link>
            </p>
          </>
        )}
      </section>
    </PublicPage>
  );
}
