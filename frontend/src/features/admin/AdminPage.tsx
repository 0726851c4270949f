import { useCallback, useEffect, useState } from "react";
import type { FormEvent, ReactNode } from "react";

import { Alert, Spinner, useAction } from "../../components/ui";
import { api } from "../../lib/api/client";
import type { User } from "../../lib/api/client";
import { nextCursor } from "../../lib/api/paging";
import { useConfirmed } from "../../lib/confirmation";
import { useAuth } from "../../lib/session";
import { AdminSecondFactors } from "./AdminSecondFactors";

export const ADMIN_PAGE_SIZE = 20;
type Change = { is_active?: boolean; is_superuser?: boolean };
/** A page of users and the cursor of the next one (null on the last page). */
type UserPage = { items: User[]; next: string | null };

/**
 * Superusers' users list. `panels`: what else each user's row shows (the app's route gives the
 * security activity, another feature's).
 */
export function AdminPage({ panels }: { panels?: (user: User) => ReactNode }) {
  const { user: me } = useAuth();
  const [query, setQuery] = useState("");
  // The cursors of the pages before this one (keyset pages: the server names only the next).
  const [trail, setTrail] = useState<Array<string | null>>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [page, setPage] = useState<UserPage | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const list = useAction(async (q: string, from: string | null): Promise<{ data?: UserPage; error?: unknown }> => {
    const query = { q, limit: ADMIN_PAGE_SIZE, ...(from ? { cursor: from } : {}) };
    const { data, error, response } = await api.GET("/users", { params: { query } });
    if (error !== undefined) return { error };
    return { data: { items: data ?? [], next: nextCursor(response.headers.get("link")) } };
  });
  const confirmed = useConfirmed();
  const patch = useAction(confirmed((id: string, body: Change) => api.PATCH("/users/{id}", { params: { path: { id } }, body })));
  const remove = useAction(confirmed((id: string) => api.DELETE("/users/{id}", { params: { path: { id } } })));
  const fetchPage = list.run;

  const reload = useCallback(async () => {
    const result = await fetchPage(query, cursor);
    if (result.ok && result.data) setPage(result.data);
  }, [fetchPage, query, cursor]);

  useEffect(() => {
    void reload();
  }, [reload]);

  function search(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setTrail([]);
    setCursor(null);
    setQuery(String(new FormData(event.currentTarget).get("q")));
  }

  async function change(user: User, body: Change, done: string) {
    if ((await patch.run(user.id, body)).ok) {
      setNotice(done);
      await reload();
    }
  }

  async function destroy(user: User) {
    if (!window.confirm(`Delete ${user.email} and all their tasks? This cannot be undone.`)) return;
    if ((await remove.run(user.id)).ok) {
      setNotice(`Deleted ${user.email}.`);
      await reload();
    }
  }

  return (
    <section aria-labelledby="admin-title">
      <h1 id="admin-title">Users</h1>
      <form className="inline-form" role="search" onSubmit={search}>
        <label htmlFor="user-search" className="visually-hidden">
          Search by email
        </label>
        <input id="user-search" name="q" type="search" placeholder="Search by email" defaultValue={query} />
        <button type="submit">Search</button>
      </form>
      <Alert kind="success">{notice}</Alert>
      <Alert kind="error">{list.error ?? patch.error ?? remove.error}</Alert>
      {!page ? (
        list.error ? null : <Spinner label="Loading users…" />
      ) : page.items.length === 0 ? (
        <p className="empty">No user matches “{query}”.</p>
      ) : (
        <>
          <p className="meta" aria-live="polite">
            {query ? `Page ${trail.length + 1} of the addresses starting with “${query}”` : `Page ${trail.length + 1}, oldest first`}
          </p>
          <ul className="users" aria-label="Users">
            {page.items.map((user) => {
              const self = user.id === me?.id;
              return (
                <li key={user.id} className="card user">
                  <div>
                    <strong>{user.email}</strong>
                    <div className="badges">
                      <span className={user.is_active ? "badge ok" : "badge warn"}>{user.is_active ? "active" : "inactive"}</span>
                      <span className={user.is_verified ? "badge ok" : "badge"}>{user.is_verified ? "verified" : "unverified"}</span>
                      {user.is_superuser && <span className="badge admin">superuser</span>}
                      {self && <span className="badge">you</span>}
                    </div>
                  </div>
                  <div className="actions">
                    <button
                      type="button"
                      disabled={self || patch.busy}
                      onClick={() =>
                        void change(user, { is_active: !user.is_active }, `${user.email} is now ${user.is_active ? "inactive" : "active"}.`)
                      }
                    >
                      {user.is_active ? "Deactivate" : "Activate"}
                    </button>
                    <button
                      type="button"
                      disabled={self || patch.busy}
                      onClick={() =>
                        void change(
                          user,
                          { is_superuser: !user.is_superuser },
                          `${user.email} ${user.is_superuser ? "is no longer" : "is now"} a superuser.`,
                        )
                      }
                    >
                      {user.is_superuser ? "Remove superuser" : "Make superuser"}
                    </button>
                    <button type="button" className="danger" disabled={self || remove.busy} onClick={() => void destroy(user)}>
                      Delete
                    </button>
                  </div>
                  <AdminSecondFactors user={user} onNotice={setNotice} />
                  {panels?.(user)}
                </li>
              );
            })}
          </ul>
          <nav className="pager" aria-label="Pages">
            <button
              type="button"
              disabled={trail.length === 0}
              onClick={() => {
                setCursor(trail[trail.length - 1] ?? null);
                setTrail(trail.slice(0, -1));
              }}
            >
              Previous
            </button>
            <span>Page {trail.length + 1}</span>
            <button
              type="button"
              disabled={page.next === null}
              onClick={() => {
                setTrail([...trail, cursor]);
                setCursor(page.next);
              }}
            >
              Next
            </button>
          </nav>
        </>
      )}
    </section>
  );
}
