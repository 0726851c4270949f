import { Link } from "react-router";

import { activity } from "../../lib/api/account";
import { usePageTitle } from "../../lib/pageTitle";
import { ActivityList } from "./ActivityList";

const TEXT = {
  title: "Activity",
  // One sentence around two links: "<intro> <changePassword> <and> <endSessions> <notRecognised>".
  intro: "What happened to your account, newest first. If something was not you,",
  changePassword: "change your password",
  and: "and",
  endSessions: "end the sessions",
  notRecognised: "you do not recognise.",
};

/** My account's security activity: sign-ins, failed attempts, changes to how I sign in. */
export function ActivityPage() {
  usePageTitle(TEXT.title);
  return (
    <section aria-labelledby="activity-title">
      <h1 id="activity-title">{TEXT.title}</h1>
      <p>
        {TEXT.intro} <Link to="/account/security">{TEXT.changePassword}</Link> {TEXT.and}{" "}
        <Link to="/account/sessions">{TEXT.endSessions}</Link> {TEXT.notRecognised}
      </p>
      <ActivityList fetchPage={activity.mine} />
    </section>
  );
}
