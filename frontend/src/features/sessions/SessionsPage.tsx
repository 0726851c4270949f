import { useCallback, useEffect, useRef, useState } from "react";

import { Alert, Spinner, useAction } from "../../components/ui";
import { api } from "../../lib/api/client";
import type { Session } from "../../lib/api/client";
import { describeDevice, timeAgo } from "../../lib/device";
import { usePageTitle } from "../../lib/pageTitle";
import { useAuth } from "../../lib/session";

const TEXT = {
  title: "Sessions",
  intro: "Where you are signed in. End any session you do not recognise; it is signed out at once.",
  loading: "Loading sessions…",
  list: "Sessions",
  thisDevice: "this device",
  meta: (lastUsed: string, signedIn: string, ip: string) => `Last used ${lastUsed} · signed in ${signedIn} · IP ${ip}`,
  logout: "Log out",
  end: "End session",
  endAria: (device: string, lastUsed: string) => `End session: ${device}, last used ${lastUsed}`,
  ended: (device: string) => `Ended the session of ${device}.`,
  endOthers: "End all other sessions",
  ending: "Ending…",
  endedOthers: "Every other session was ended.",
};

export function SessionsPage() {
  usePageTitle(TEXT.title);
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
      setNotice(TEXT.ended(describeDevice(session.user_agent)));
      await reload();
      heading.current?.focus(); // its button is gone: the page's heading has the focus, not <body>
    }
  }

  async function endAllOthers() {
    if ((await endOthers.run()).ok) {
      setNotice(TEXT.endedOthers);
      await reload();
    }
  }

  const others = sessions?.filter((s) => !s.current) ?? [];
  return (
    <section aria-labelledby="sessions-title">
      <h1 id="sessions-title" ref={heading} tabIndex={-1}>{TEXT.title}</h1>
      <p>{TEXT.intro}</p>
      <Alert kind="success">{notice}</Alert>
      <Alert kind="error">{list.error ?? end.error ?? endOthers.error}</Alert>
      {!sessions ? (
        <Spinner label={TEXT.loading} />
      ) : (
        <ul className="sessions" aria-label={TEXT.list}>
          {sessions.map((session) => (
            <li key={session.id} className="card session">
              <div>
                <strong>{describeDevice(session.user_agent)}</strong>
                {session.current && <span className="badge ok">{TEXT.thisDevice}</span>}
                <div className="meta">
                  {TEXT.meta(timeAgo(session.last_used_at), timeAgo(session.created_at), session.ip)}
                </div>
              </div>
              {session.current ? (
                <button type="button" onClick={() => void logout()}>{TEXT.logout}</button>
              ) : (
                <button
                  type="button"
                  className="danger"
                  disabled={end.busy}
                  onClick={() => void endOne(session)}
                  aria-label={TEXT.endAria(describeDevice(session.user_agent), timeAgo(session.last_used_at))}
                >
                  {TEXT.end}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {others.length > 0 && (
        <button type="button" className="danger" onClick={() => void endAllOthers()} disabled={endOthers.busy} aria-busy={endOthers.busy}>
          {endOthers.busy ? TEXT.ending : TEXT.endOthers}
        </button>
      )}
    </section>
  );
}
