import { Link } from "react-router";

import { PublicPage } from "../../components/ui";

export function NotFoundPage() {
  return (
    <PublicPage>
      <section className="card" aria-labelledby="missing-title">
        <h2 id="missing-title">Page not found</h2>
        <p>
          There is nothing at this address. <Link to="/">Go to your tasks</Link>
        </p>
      </section>
    </PublicPage>
  );
}
