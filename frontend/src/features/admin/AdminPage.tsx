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

const TEXT = {
  title: "Users",
  search: "Search by email",
  searchButton: "Search",
  loading: "Loading users…",
  noMatch: (query: string) => `No user matches “${query}”.`,
  pageOf: (page: number, query: string) =>
    query ? `Page ${page} of the addresses starting with “${query}”` : `Page ${page}, oldest first`,
  page: (page: number) => `Page ${page}`,
  previous: "Previous",
  next: "Next",
  confirmDelete: (email: string) => `Delete ${email} and all their tasks? This cannot be undone.`,
  deleted: (email: string) => `Deleted ${email}.`,
  activeNow: (email: string, active: boolean) => `${email} is now ${active ? "active" : "inactive"}.`,
  superuserNow: (email: string, superuser: boolean) => `${email} ${superuser ? "is now" : "is no longer"} a superuser.`,
  activate: (active: boolean | undefined) => (active ? "Deactivate" : "Activate"),
  superuser: (superuser: boolean | undefined) => (superuser ? "Remove superuser" : "Make superuser"),
  delete: "Delete",
  badges: { active: "active", inactive: "inactive", verified: "verified", unverified: "unverified", superuser: "superuser", you: "you" },
};
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
    if (!window.confirm(TEXT.confirmDelete(user.email))) return;
    if ((await remove.run(user.id)).ok) {
      setNotice(TEXT.deleted(user.email));
      await reload();
    }
  }

  return (
    <section aria-labelledby="admin-title">
      <h1 id="admin-title">{TEXT.title}</h1>
      <form className="inline-form" role="search" onSubmit={search}>
        <label htmlFor="user-search" className="visually-hidden">
          {TEXT.search}
        </label>
        <input id="user-search" name="q" type="search" placeholder={TEXT.search} defaultValue={query} />
        <button type="submit">{TEXT.searchButton}</button>
      </form>
      <Alert kind="success">{notice}</Alert>
      <Alert kind="error">{list.error ?? patch.error ?? remove.error}</Alert>
      {!page ? (
        list.error ? null : <Spinner label={TEXT.loading} />
      ) : page.items.length === 0 ? (
        <p className="empty">{TEXT.noMatch(query)}</p>
      ) : (
        <>
          <p className="meta" aria-live="polite">
            {TEXT.pageOf(trail.length + 1, query)}
          </p>
          <ul className="users" aria-label="Users">
            {page.items.map((user) => {
              const self = user.id === me?.id;
              return (
                <li key={user.id} className="card user">
                  <div>
                    <strong>{user.email}</strong>
                    <div className="badges">
                      <span className={user.is_active ? "badge ok" : "badge warn"}>{user.is_active ? TEXT.badges.active : TEXT.badges.inactive}</span>
                      <span className={user.is_verified ? "badge ok" : "badge"}>{user.is_verified ? TEXT.badges.verified : TEXT.badges.unverified}</span>
                      {user.is_superuser && <span className="badge admin">{TEXT.badges.superuser}</span>}
                      {self && <span className="badge">{TEXT.badges.you}</span>}
                    </div>
                  </div>
                  <div className="actions">
                    <button
                      type="button"
                      disabled={self || patch.busy}
                      onClick={() =>
                        void change(user, { is_active: !user.is_active }, TEXT.activeNow(user.email, !user.is_active))
                      }
                    >
                      {TEXT.activate(user.is_active)}
                    </button>
                    <button
                      type="button"
                      disabled={self || patch.busy}
                      onClick={() =>
                        void change(
                          user,
                          { is_superuser: !user.is_superuser },
                          TEXT.superuserNow(user.email, !user.is_superuser),
                        )
                      }
                    >
                      {TEXT.superuser(user.is_superuser)}
                    </button>
                    <button type="button" className="danger" disabled={self || remove.busy} onClick={() => void destroy(user)}>
                      {TEXT.delete}
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
              {TEXT.previous}
            </button>
            <span>{TEXT.page(trail.length + 1)}</span>
            <button
              type="button"
              disabled={page.next === null}
              onClick={() => {
                setTrail([...trail, cursor]);
                setCursor(page.next);
              }}
            >
              {TEXT.next}
            </button>
          </nav>
        </>
      )}
    </section>
  );
}
