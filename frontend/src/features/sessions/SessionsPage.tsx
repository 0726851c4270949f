import { useCallback, useEffect, useRef, useState } from "react";

import { Alert, Spinner, useAction } from "../../components/ui";
import { api } from "../../lib/api/client";
import type { Session } from "../../lib/api/client";
import { describeDevice, timeAgo } from "../../lib/device";
import { usePageTitle } from "../../lib/pageTitle";
import { useAuth } from "../../lib/session";

export function SessionsPage() {
  usePageTitle("Sessions");
  const { logout } = useAuth();
  const [sessions, setSessions] = useState<Session[] | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const list = useAction(() => api.GET("/auth/sessions"));
  const end = useAction((id: string) => api.DELETE("/auth/sessions/{session_id}", { params: { path: { session_id: id } } }));
  const endOthers = useAction(() => api.POST("/auth/logout-others"));
  const fetchList = list.run;

  const reload = useCallback(async () => {
    const result = await fetchList();
    if (result.ok && result.data) setSessions(result.data);
  }, [fetchList]);

  useEffect(() => {
    void reload();
  }, [reload]);

  async function endOne(session: Session) {
    if ((await end.run(session.id)).ok) {
      setNotice(`Ended the session of ${describeDevice(session.user_agent)}.`);
      await reload();
      heading.current?.focus(); // its button is gone: the page's heading has the focus, not <body>
    }
  }

  async function endAllOthers() {
    if ((await endOthers.run()).ok) {
      setNotice("Every other session was ended.");
      await reload();
    }
  }

  const others = sessions?.filter((s) => !s.current) ?? [];
  return (
    <section aria-labelledby="sessions-title">
      <h1 id="sessions-title" ref={heading} tabIndex={-1}>
        Sessions
      </h1>
      <p>Where you are signed in. End any session you do not recognise; it is signed out at once.</p>
      <Alert kind="success">{notice}</Alert>
      <Alert kind="error">{list.error ?? end.error ?? endOthers.error}</Alert>
      {!sessions ? (
        <Spinner label="Loading sessions…" />
      ) : (
        <ul className="sessions" aria-label="Sessions">
          {sessions.map((session) => (
            <li key={session.id} className="card session">
              <div>
                <strong>{describeDevice(session.user_agent)}</strong>
                {session.current && <span className="badge ok">this device</span>}
                <div className="meta">
                  Last used {timeAgo(session.last_used_at)} · signed in {timeAgo(session.created_at)} · IP{" "}
                  {session.ip}
                </div>
              </div>
              {session.current ? (
                <button type="button" onClick={() => void logout()}>
                  Log out
                </button>
              ) : (
                <button
                  type="button"
                  className="danger"
                  disabled={end.busy}
                  onClick={() => void endOne(session)}
                  aria-label={`End session: ${describeDevice(session.user_agent)}, last used ${timeAgo(session.last_used_at)}`}
                >
                  End session
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {others.length > 0 && (
        <button type="button" className="danger" onClick={() => void endAllOthers()} disabled={endOthers.busy} aria-busy={endOthers.busy}>
          {endOthers.busy ? "Ending…" : "End all other sessions"}
        </button>
      )}
    </section>
  );
}
