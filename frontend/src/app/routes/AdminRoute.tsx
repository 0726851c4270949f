import { Link } from "react-router";

import { UserActivity } from "../../features/activity/UserActivity";
import { AdminPage } from "../../features/admin/AdminPage";
import { usePageTitle } from "../../lib/pageTitle";
import { useAuth } from "../../lib/session";

const TEXT = {
  title: "Users",
  notAllowed: "Not allowed",
  notAdmin: "This page is for the app's administrators, and your account is not one.",
  toTasks: "Go to your tasks",
};

/** The admin screen for superusers: the users, each with their security activity. Others get a plain no. */
export function AdminRoute() {
  const { user } = useAuth();
  usePageTitle(user?.is_superuser ? TEXT.title : TEXT.notAllowed);
  if (!user) return null;
  if (!user.is_superuser) {
    return (
      <section aria-labelledby="refused-title">
        <h1 id="refused-title">{TEXT.notAllowed}</h1>
        <p>
          {TEXT.notAdmin} <Link to="/">{TEXT.toTasks}</Link>
        </p>
      </section>
    );
  }
  return <AdminPage panels={(u) => <UserActivity user={u} />} />;
}
