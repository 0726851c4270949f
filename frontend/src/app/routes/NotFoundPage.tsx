import { Link } from "react-router";

import { PublicPage } from "../../components/ui";
import { usePageTitle } from "../../lib/pageTitle";
import { useAuth } from "../../lib/session";
import { Layout } from "../guards";

const TEXT = {
  title: "Page not found",
  nothing: "There is nothing at this address.",
  tasks: "Go to your tasks",
  login: "Go to the login page",
};

/** An address the app does not know: in the signed-in frame (top bar and all) when signed in. */
export function NotFoundPage() {
  usePageTitle(TEXT.title);
  const { state, user } = useAuth();
  if (state.status === "signed-in" && user) {
    return (
      <Layout>
        <section aria-labelledby="missing-title">
          <h1 id="missing-title">{TEXT.title}</h1>
          <p>
            {TEXT.nothing} <Link to="/">{TEXT.tasks}</Link>
          </p>
        </section>
      </Layout>
    );
  }
  return (
    <PublicPage>
      <section className="card" aria-labelledby="missing-title">
        <h2 id="missing-title">{TEXT.title}</h2>
        <p>
          {TEXT.nothing} <Link to={state.status === "signed-in" ? "/" : "/login"}>{state.status === "signed-in" ? TEXT.tasks : TEXT.login}</Link>
        </p>
      </section>
    </PublicPage>
  );
}
