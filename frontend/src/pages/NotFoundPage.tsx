import { Link } from "react-router";

export function NotFoundPage() {
  return (
    <main id="main" className="narrow">
      <h1 className="brand">FARM Auth</h1>
      <section className="card" aria-labelledby="missing-title">
        <h2 id="missing-title">Page not found</h2>
        <p>
          There is nothing at this address. <Link to="/">Go to your tasks</Link>
        </p>
      </section>
    </main>
  );
}
