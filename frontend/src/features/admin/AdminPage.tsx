import { useCallback, useEffect, useState } from "react";
import type { FormEvent, ReactNode } from "react";

import { Alert, Spinner, useAction } from "../../components/ui";
import { api } from "../../lib/api/client";
import type { User, UserPage } from "../../lib/api/client";
import { useConfirmed } from "../../lib/confirmation";
import { useAuth } from "../../lib/session";
import { AdminSecondFactors } from "./AdminSecondFactors";

export const ADMIN_PAGE_SIZE = 20;
type Change = { is_active?: boolean; is_superuser?: boolean };

/**
 * Superusers' users list. `panels`: what else each user's row shows (the app's route gives the
 * security activity, another feature's).
 */
export function AdminPage({ panels }: { panels?: (user: User) => ReactNode }) {
  const { user: me } = useAuth();
  const [query, setQuery] = useState("");
  const [skip, setSkip] = useState(0);
  const [page, setPage] = useState<UserPage | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const list = useAction((q: string, from: number) =>
    api.GET("/users", { params: { query: { q, skip: from, limit: ADMIN_PAGE_SIZE } } }),
  );
  const confirmed = useConfirmed();
  const patch = useAction(confirmed((id: string, body: Change) => api.PATCH("/users/{id}", { params: { path: { id } }, body })));
  const remove = useAction(confirmed((id: string) => api.DELETE("/users/{id}", { params: { path: { id } } })));
  const fetchPage = list.run;

  const reload = useCallback(async () => {
    const result = await fetchPage(query, skip);
    if (result.ok && result.data) setPage(result.data);
  }, [fetchPage, query, skip]);

  useEffect(() => {
    void reload();
  }, [reload]);

  function search(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setSkip(0);
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
            {page.total} user{page.total === 1 ? "" : "s"}
            {query && ` matching “${query}”`}
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
            <button type="button" disabled={skip === 0} onClick={() => setSkip(Math.max(0, skip - ADMIN_PAGE_SIZE))}>
              Previous
            </button>
            <span>
              {skip + 1}–{skip + page.items.length} of {page.total}
            </span>
            <button type="button" disabled={skip + ADMIN_PAGE_SIZE >= page.total} onClick={() => setSkip(skip + ADMIN_PAGE_SIZE)}>
              Next
            </button>
          </nav>
        </>
      )}
    </section>
  );
}
