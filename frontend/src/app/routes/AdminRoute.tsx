import { UserActivity } from "../../features/activity/UserActivity";
import { AdminPage } from "../../features/admin/AdminPage";

/** The admin screen: the users, each with their security activity (the activity feature's). */
export function AdminRoute() {
  return <AdminPage panels={(user) => <UserActivity user={user} />} />;
}
