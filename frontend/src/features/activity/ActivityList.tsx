import { useEffect, useMemo, useState } from "react";

import { Alert, Spinner, useAction } from "../../components/ui";
import type { ActivityEvent, ActivityPage } from "../../lib/api/account";
import { describeDevice, exactTime, timeAgo } from "../../lib/device";
import { useProviders } from "../../lib/providers";
import { describeActivity, fromNewDevice, needsAttention } from "./activityText";
import type { ProviderLabels } from "./activityText";

/** A page of the log after `cursor` (null: the newest), as openapi-fetch's `{ data, error }`. */
export type FetchActivity = (cursor: string | null) => Promise<{ data?: ActivityPage; error?: unknown }>;

/**
 * A security activity log, newest first, a page at a time ("Load more" follows the Link header's
 * cursor): the Activity page's and, for superusers, each user's in the admin list.
 */
export function ActivityList({ fetchPage, label = "Security activity" }: { fetchPage: FetchActivity; label?: string }) {
  const providers = useProviders();
  const labels = useMemo<ProviderLabels>(
    () => Object.fromEntries((providers ?? []).map((provider) => [provider.name, provider.label])),
    [providers],
  );
  const [events, setEvents] = useState<ActivityEvent[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const load = useAction(fetchPage);
  const loadPage = load.run;

  useEffect(() => {
    let current = true;
    void loadPage(null).then((result) => {
      if (!current || !result.ok || !result.data) return;
      setEvents(result.data.events);
      setNext(result.data.next);
    });
    return () => {
      current = false;
    };
  }, [loadPage]);

  async function loadMore() {
    const result = await loadPage(next);
    if (result.ok && result.data) {
      const { events: more, next: after } = result.data;
      setEvents((shown) => [...(shown ?? []), ...more.filter((event) => !shown?.some((s) => s.id === event.id))]);
      setNext(after);
    }
  }

  return (
    <>
      <Alert kind="error">{load.error}</Alert>
      {events === null ? (
        !load.error && <Spinner label="Loading activity…" />
      ) : events.length === 0 ? (
        <p className="empty">Nothing recorded yet.</p>
      ) : (
        <ul className="activity" aria-label={label}>
          {events.map((event) => (
            <ActivityItem key={event.id} event={event} labels={labels} />
          ))}
        </ul>
      )}
      {events && next !== null && (
        <button type="button" className="more" onClick={() => void loadMore()} disabled={load.busy} aria-busy={load.busy}>
          {load.busy ? "Loading…" : "Load more"}
        </button>
      )}
    </>
  );
}

function ActivityItem({ event, labels }: { event: ActivityEvent; labels: ProviderLabels }) {
  const attention = needsAttention(event.type);
  const device = event.device || describeDevice(event.user_agent);
  // A summary of several sign-ins (`at` the latest) also says when the first was.
  const firstAt = event.detail?.first_at;
  const first = typeof firstAt === "string" && firstAt !== event.at ? firstAt : null;
  return (
    <li className={attention ? "activity-item attention" : "activity-item"}>
      <span className="what">
        {describeActivity(event, labels)}
        {attention && <span className="badge warn">check</span>}
        {fromNewDevice(event) && <span className="badge">new device</span>}
      </span>
      <span className="meta">
        <time dateTime={event.at} title={exactTime(event.at)}>
          {timeAgo(event.at)}
        </time>
        {first && (
          <>
            {" · first "}
            <time dateTime={first} title={exactTime(first)}>
              {timeAgo(first)}
            </time>
          </>
        )}
        {" · "}
        {device}
        {event.ip && ` · IP ${event.ip}`}
      </span>
    </li>
  );
}
