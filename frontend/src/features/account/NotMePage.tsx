import { useState } from "react";
import { Link, useSearchParams } from "react-router";

import { Alert, PublicPage, useAction } from "../../components/ui";
import { declineAccount } from "../../lib/api/account";
import { usePageTitle } from "../../lib/pageTitle";

const TEXT = {
  title: "An account you did not create",
  noToken: "This page needs the link from your email.",
  deleted:
    "The account was deleted, with everything in it. Nobody else was told. Your address is free: create an account with it whenever you like.",
  explain:
    "Someone created an account here with your email address and never confirmed it. If it was not you, delete it: whoever made it can no longer sign in, and the address is yours to use.",
  delete: "Delete this account",
  deleting: "Deleting…",
  register: "Create an account",
  login: "Log in",
};

/**
 * "This wasn't me", from the verification mail: someone made an account with this address and
 * never confirmed it. One click (not the page opening: mail scanners open links) deletes it.
 */
export function NotMePage() {
  usePageTitle(TEXT.title);
  const [params] = useSearchParams();
  const token = params.get("token");
  const [deleted, setDeleted] = useState(false);
  const decline = useAction(() => declineAccount(token ?? ""));

  async function remove() {
    if ((await decline.run()).ok) setDeleted(true);
  }

  return (
    <PublicPage>
      <section aria-labelledby="not-me-title" className="card">
        <h2 id="not-me-title">{TEXT.title}</h2>
        {!token ? (
          <Alert kind="error">{TEXT.noToken}</Alert>
        ) : deleted ? (
          <Alert kind="success">{TEXT.deleted}</Alert>
        ) : (
          <>
            <p>{TEXT.explain}</p>
            <Alert kind="error">{decline.error}</Alert>
            <button type="button" className="danger" onClick={() => void remove()} disabled={decline.busy} aria-busy={decline.busy}>
              {decline.busy ? TEXT.deleting : TEXT.delete}
            </button>
          </>
        )}
        <p className="links">
          {deleted ? <Link to="/register">{TEXT.register}</Link> : <Link to="/login">{TEXT.login}</Link>}
        </p>
      </section>
    </PublicPage>
  );
}
