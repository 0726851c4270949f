import { Link } from "react-router";

import { activity } from "../../lib/api/account";
import { ActivityList } from "./ActivityList";

/** My account's security activity: sign-ins, failed attempts, changes to how I sign in. */
export function ActivityPage() {
  return (
    <section aria-labelledby="activity-title">
      <h1 id="activity-title">Activity</h1>
      <p>
        What happened to your account, newest first. If something was not you, <Link to="/account">change your password</Link>{" "}
        and <Link to="/sessions">end the sessions</Link> you do not recognise.
      </p>
      <ActivityList fetchPage={activity.mine} />
    </section>
  );
}
