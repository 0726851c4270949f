import { Link } from "react-router";

import { CheckInbox } from "../../components/CheckInbox";
import { usePageTitle } from "../../lib/pageTitle";
import { useAuth } from "../../lib/session";

const TEXT = {
  title: "Welcome",
  heading: "Your account is ready",
  verified: "Your address is confirmed: everything is open to you.",
  next: "Go to your tasks",
};

/** The first page after registering: where the confirmation link went, and what to do. */
export function WelcomePage() {
  usePageTitle(TEXT.title);
  const { user } = useAuth();
  if (!user) return null;
  return (
    <section aria-labelledby="welcome-title">
      <h1 id="welcome-title">{TEXT.heading}</h1>
      <div className="card">{user.is_verified ? <p>{TEXT.verified}</p> : <CheckInbox email={user.email} signedIn />}</div>
      <p>
        <Link to="/" className="button primary">
          {TEXT.next}
        </Link>
      </p>
    </section>
  );
}
