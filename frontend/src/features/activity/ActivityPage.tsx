import { Link } from "react-router";

import { activity } from "../../lib/api/account";
import { usePageTitle } from "../../lib/pageTitle";
import { ActivityList } from "./ActivityList";

/** My account's security activity: sign-ins, failed attempts, changes to how I sign in. */
export function ActivityPage() {
  usePageTitle("Activity");
  return (
    <section aria-labelledby="activity-title">
      <h1 id="activity-title">Activity</h1>
      <p>
        What happened to your account, newest first. If something was not you, <Link to="/account/security">change your password</Link>{" "}
        and <Link to="/account/sessions">end the sessions</Link> you do not recognise.
      </p>
      <ActivityList fetchPage={activity.mine} />
    </section>
  );
}
