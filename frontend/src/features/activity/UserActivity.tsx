import { useCallback, useState } from "react";

import { activity } from "../../lib/api/account";
import type { User } from "../../lib/api/client";
import { ActivityList } from "./ActivityList";

/**
 * A user's security activity in the admin list, asked for when opened (as "Second factors"): to
 * see what happened before helping someone locked out, or after a report of a stolen account.
 */
export function UserActivity({ user }: { user: User }) {
  const [open, setOpen] = useState(false);
  const panelId = `activity-${user.id}`;
  const fetchPage = useCallback((cursor: string | null) => activity.ofUser(user.id, cursor), [user.id]);

  return (
    <div className="user-activity">
      <button type="button" aria-expanded={open} aria-controls={panelId} onClick={() => setOpen(!open)}>
        Security activity
      </button>
      {open && (
        <div id={panelId} className="activity-panel">
          <ActivityList fetchPage={fetchPage} label={`Security activity of ${user.email}`} />
        </div>
      )}
    </div>
  );
}
