import { Link } from "react-router";

import { UserActivity } from "../../features/activity/UserActivity";
import { AdminPage } from "../../features/admin/AdminPage";
import { usePageTitle } from "../../lib/pageTitle";
import { useAuth } from "../../lib/session";

/** The admin screen for superusers: the users, each with their security activity. Others get a plain no. */
export function AdminRoute() {
  const { user } = useAuth();
  usePageTitle(user?.is_superuser ? "Users" : "Not allowed");
  if (!user) return null;
  if (!user.is_superuser) {
    return (
      <section aria-labelledby="refused-title">
        <h1 id="refused-title">Not allowed</h1>
        <p>
          This page is for the app's administrators, and your account is not one. <Link to="/">Go to your tasks</Link>
        </p>
      </section>
    );
  }
  return <AdminPage panels={(u) => <UserActivity user={u} />} />;
}
