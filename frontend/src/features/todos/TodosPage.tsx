import { useCallback, useEffect, useRef, useState } from "react";
import type { FormEvent, KeyboardEvent } from "react";

import { Alert, Spinner, useAction } from "../../components/ui";
import { useToast } from "../../components/ui/toast";
import { api } from "../../lib/api/client";
import type { Task } from "../../lib/api/client";
import { errorMessage, fieldErrors, UNREACHABLE } from "../../lib/api/errors";
import { nextCursor } from "../../lib/api/paging";
import { usePageTitle } from "../../lib/pageTitle";
import { currentUserId, useBeforeSignOut } from "../../lib/session";
import { addedTasks, UNDO_MILLISECONDS } from "./listing";

export const PAGE_SIZE = 20;
type Filter = "all" | "open" | "done";

const TEXT = {
  title: "Tasks",
  newTask: "New task",
  placeholder: "What needs doing?",
  add: "Add",
  adding: "Adding…",
  addForm: "Add a task",
  emptyName: "Type a name for the task.",
  added: (name: string) => `Added “${name}”.`,
  addedBeyond: (name: string) => `Added “${name}”: it is at the end of your list.`,
  show: "Show",
  filters: { all: "All", open: "Open", done: "Done" } satisfies Record<Filter, string>,
  empty: {
    all: "No tasks yet. Add your first one above.",
    open: "Nothing left to do.",
    done: "Nothing finished yet.",
  } satisfies Record<Filter, string>,
  loading: "Loading tasks…",
  loadMore: "Load more",
  loadingMore: "Loading…",
  list: "Tasks",
  markDone: (name: string, done: boolean) => `Mark “${name}” as ${done ? "not done" : "done"}`,
  renameLabel: (name: string) => `New name for “${name}”`,
  rename: "Rename",
  renameAria: (name: string) => `Rename “${name}”`,
  save: "Save",
  cancel: "Cancel",
  renamed: (name: string) => `Renamed to “${name}”.`,
  delete: "Delete",
  deleteAria: (name: string) => `Delete “${name}”`,
  deleted: (name: string) => `Deleted “${name}”.`,
  undo: "Undo",
  restored: (name: string) => `“${name}” is back.`,
  deleteFailed: (name: string, why: string) => `“${name}” could not be deleted: ${why}`,
};

const completedParam = (filter: Filter) => (filter === "all" ? undefined : filter === "done");
const belongs = (task: Task, filter: Filter) => filter === "all" || task.completed === (filter === "done");
const deleteTask = (id: string) => api.DELETE("/task/{id}", { params: { path: { id } } });

export function TodosPage() {
  usePageTitle(TEXT.title);
  const toast = useToast();
  const [filter, setFilter] = useState<Filter>("all");
  const [tasks, setTasks] = useState<Task[]>([]);
  // Tasks added while older pages are still unloaded: shown after the loaded ones at once, not
  // only once "Load more" reaches the end (listing.ts keeps the order right as pages arrive).
  const [added, setAdded] = useState<Task[]>([]);
  const [loaded, setLoaded] = useState(false);
  // The next page's cursor, from the Link header of the last page loaded; null at the end.
  const [next, setNext] = useState<string | null>(null);
  const [nameError, setNameError] = useState<string | null>(null);
  const hasMore = next !== null;
  const input = useRef<HTMLInputElement>(null);
  const list = useRef<HTMLUListElement>(null);
  const load = useAction(async (current: Filter, cursor: string | null) => {
    const query = { completed: completedParam(current), limit: PAGE_SIZE, ...(cursor ? { cursor } : {}) };
    const { data, error, response } = await api.GET("/task/", { params: { query } });
    if (error !== undefined) return { error };
    return { data: { tasks: data ?? [], next: nextCursor(response.headers.get("link")) } };
  });
  const add = useAction((name: string) => api.POST("/task/", { body: { name } }));
  const loadPage = load.run;

  // Deletions wait out their Undo; leaving the page sends them at once.
  // Each held with the account it belongs to: when another tab has signed in as someone else
  // meanwhile, the delete is dropped, never sent (or reported) as them.
  const pending = useRef(new Map<string, { task: Task; timer: number; owner: string | null }>());
  const send = useCallback(
    async (id: string) => {
      const held = pending.current.get(id);
      if (!held) return;
      window.clearTimeout(held.timer);
      pending.current.delete(id);
      if (held.owner === null || held.owner !== currentUserId()) return;
      try {
        const { error, response } = await deleteTask(id);
        if (!response.ok && response.status !== 404) throw error;
      } catch (error) {
        // Not deleted: it comes back where it was, and the person is told why.
        setTasks((current) => (current.some((t) => t._id === id) ? current : [...current, held.task]));
        toast({ kind: "error", text: TEXT.deleteFailed(held.task.name, error === undefined ? UNREACHABLE : errorMessage(error)) });
      }
    },
    [toast],
  );
  // Logging out here sends them first, while the session still holds.
  useBeforeSignOut(
    useCallback(async () => {
      await Promise.all([...pending.current.keys()].map((id) => send(id)));
    }, [send]),
  );
  useEffect(() => {
    const held = pending.current;
    const flush = () => held.forEach((_, id) => void send(id));
    window.addEventListener("pagehide", flush);
    return () => {
      window.removeEventListener("pagehide", flush);
      flush();
    };
  }, [send]);

  const loadFirstPage = useCallback(
    async (current: Filter) => {
      setLoaded(false);
      const result = await loadPage(current, null);
      if (result.ok && result.data) {
        setTasks(result.data.tasks.filter((t) => !pending.current.has(t._id)));
        setAdded([]);
        setNext(result.data.next);
      }
      setLoaded(true);
    },
    [loadPage],
  );

  useEffect(() => {
    void loadFirstPage(filter);
  }, [filter, loadFirstPage]);

  async function loadMore() {
    const result = await load.run(filter, next);
    if (result.ok && result.data) {
      const page = result.data;
      const merged = addedTasks(tasks, added, page.tasks.filter((t) => !pending.current.has(t._id)), page.next === null);
      setTasks(merged.tasks);
      setAdded(merged.added);
      setNext(page.next);
    }
  }

  // Adds go out one after another, in the order typed. Enter takes the name off the field at
  // once, so the next one can be typed meanwhile; a refused one comes back into an empty field.
  const queue = useRef(Promise.resolve());
  const waiting = useRef(0);
  const now = useRef({ filter, hasMore });
  now.current = { filter, hasMore };

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const field = input.current;
    if (!field) return;
    const name = field.value;
    if (!name.trim()) {
      if (name === "" && waiting.current > 0) return; // Enter again on what was just sent
      setNameError(TEXT.emptyName);
      field.focus();
      return;
    }
    setNameError(null);
    field.value = "";
    field.focus(); // ready for the next one, whatever the button did to focus
    waiting.current += 1;
    queue.current = queue.current.then(async () => {
      const result = await add.run(name);
      waiting.current -= 1;
      if (!result.ok || !result.data) {
        if (input.current && input.current.value === "") input.current.value = name; // not lost
        return;
      }
      const task = result.data;
      const { filter: shownFilter, hasMore: morePages } = now.current;
      if (!belongs(task, shownFilter)) return;
      // Oldest first: a new task belongs at the end. With pages still unloaded it shows after
      // the loaded ones, so it never seems lost.
      if (morePages) setAdded((current) => [...current, task]);
      else setTasks((current) => [...current, task]);
      toast({ kind: "success", text: morePages ? TEXT.addedBeyond(task.name) : TEXT.added(task.name) });
    });
  }

  const replace = (task: Task) => {
    const update = (current: Task[]) =>
      belongs(task, filter) ? current.map((t) => (t._id === task._id ? task : t)) : current.filter((t) => t._id !== task._id);
    setTasks(update);
    setAdded(update);
  };

  /** Take the task off the list now; delete it once its Undo has passed. Focus goes to the next one. */
  const remove = (task: Task) => {
    const shown = [...tasks, ...added];
    const at = shown.findIndex((t) => t._id === task._id);
    const after = shown[at + 1] ?? shown[at - 1];
    setTasks((current) => current.filter((t) => t._id !== task._id));
    setAdded((current) => current.filter((t) => t._id !== task._id));
    const timer = window.setTimeout(() => void send(task._id), UNDO_MILLISECONDS);
    pending.current.set(task._id, { task, timer, owner: currentUserId() });
    toast({
      kind: "success",
      text: TEXT.deleted(task.name),
      duration: UNDO_MILLISECONDS,
      action: {
        label: TEXT.undo,
        run: () => {
          const held = pending.current.get(task._id);
          if (!held) return;
          window.clearTimeout(held.timer);
          pending.current.delete(task._id);
          setTasks((current) => {
            const restored = [...current];
            restored.splice(Math.min(at, restored.length), 0, task);
            return restored;
          });
          toast({ kind: "info", text: TEXT.restored(task.name) });
        },
      },
    });
    window.requestAnimationFrame(() => {
      const target = after && list.current?.querySelector<HTMLElement>(`[data-task="${after._id}"] input[type="checkbox"]`);
      (target ?? input.current)?.focus();
    });
  };

  const shown = [...tasks, ...added];
  return (
    <section aria-labelledby="tasks-title">
      <h1 id="tasks-title">{TEXT.title}</h1>
      <form className="inline-form" onSubmit={submit} aria-label={TEXT.addForm} noValidate>
        <label htmlFor="new-task" className="visually-hidden">
          {TEXT.newTask}
        </label>
        <input
          ref={input}
          id="new-task"
          name="name"
          placeholder={TEXT.placeholder}
          maxLength={500}
          autoComplete="off"
          aria-invalid={nameError || add.error ? true : undefined}
          aria-describedby={nameError || add.error ? "new-task-error" : undefined}
          onChange={() => setNameError(null)}
        />
        <button type="submit" className="primary" aria-busy={add.busy}>
          {add.busy ? TEXT.adding : TEXT.add}
        </button>
      </form>
      {(nameError || add.error) && (
        <p id="new-task-error" className="field-error" role="alert">
          {nameError ?? add.error}
        </p>
      )}

      <div className="filters" role="group" aria-label={TEXT.show}>
        {(Object.keys(TEXT.filters) as Filter[]).map((value) => (
          <button key={value} type="button" aria-pressed={filter === value} onClick={() => setFilter(value)}>
            {TEXT.filters[value]}
          </button>
        ))}
      </div>

      <Alert kind="error">{load.error}</Alert>
      {!loaded ? (
        <Spinner label={TEXT.loading} />
      ) : shown.length === 0 && !load.error ? (
        <p className="empty">{TEXT.empty[filter]}</p>
      ) : (
        <ul className="tasks" aria-label={TEXT.list} ref={list}>
          {shown.map((task) => (
            <TaskItem key={task._id} task={task} onChange={replace} onDelete={remove} />
          ))}
        </ul>
      )}
      {loaded && hasMore && (
        <button type="button" className="more" onClick={() => void loadMore()} disabled={load.busy} aria-busy={load.busy}>
          {load.busy ? TEXT.loadingMore : TEXT.loadMore}
        </button>
      )}
    </section>
  );
}

function TaskItem({ task, onChange, onDelete }: { task: Task; onChange(task: Task): void; onDelete(task: Task): void }) {
  const toast = useToast();
  const [editing, setEditing] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [completed, setCompleted] = useState(task.completed);
  useEffect(() => setCompleted(task.completed), [task.completed]);
  const renameButton = useRef<HTMLButtonElement>(null);
  const item = useRef<HTMLLIElement>(null);

  /** Back from renaming: focus returns to the button that started it (WCAG 2.4.3), once it is
   * rendered again (after a save that commit can come later than the next frame). */
  const returnFocus = useRef(false);
  const stopEditing = () => {
    returnFocus.current = true;
    setEditing(false);
  };
  useEffect(() => {
    if (editing || !returnFocus.current) return;
    returnFocus.current = false;
    renameButton.current?.focus();
  }, [editing]);

  async function update(body: { name?: string; completed?: boolean }): Promise<boolean> {
    setBusy(true);
    setError(null);
    try {
      const { data, error: failure, response } = await api.PUT("/task/{id}", { params: { path: { id: task._id } }, body });
      if (!response.ok || !data) {
        setError(fieldErrors(failure).name ?? errorMessage(failure));
        return false;
      }
      onChange(data);
      return true;
    } catch {
      setError(UNREACHABLE);
      return false;
    } finally {
      setBusy(false);
    }
  }

  const rename = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const name = String(new FormData(event.currentTarget).get("name") ?? "");
    if (!name.trim()) {
      setError(TEXT.emptyName);
      return;
    }
    if (name.trim() === task.name) {
      stopEditing();
      return;
    }
    if (await update({ name })) {
      stopEditing();
      toast({ kind: "success", text: TEXT.renamed(name.trim()) });
    }
  };

  const cancelOnEscape = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === "Escape") {
      event.preventDefault();
      setError(null);
      stopEditing();
    }
  };

  return (
    <li className={completed ? "task done" : "task"} aria-busy={busy} data-task={task._id} ref={item}>
      <input
        type="checkbox"
        checked={completed}
        // Not `disabled` while saving: a disabled control drops the keyboard's focus to <body>.
        aria-disabled={busy}
        onChange={() => {
          if (busy) return;
          setCompleted(!completed); // at once; put back if the server refuses
          void update({ completed: !completed }).then((ok) => ok || setCompleted(task.completed));
        }}
        aria-label={TEXT.markDone(task.name, completed)}
      />
      {editing ? (
        <form className="rename" onSubmit={(event) => void rename(event)} noValidate>
          <label htmlFor={`rename-${task._id}`} className="visually-hidden">
            {TEXT.renameLabel(task.name)}
          </label>
          <input
            id={`rename-${task._id}`}
            name="name"
            defaultValue={task.name}
            maxLength={500}
            autoFocus
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? `task-error-${task._id}` : undefined}
            onKeyDown={cancelOnEscape}
          />
          <button type="submit" disabled={busy}>
            {TEXT.save}
          </button>
          <button
            type="button"
            onClick={() => {
              setError(null);
              stopEditing();
            }}
          >
            {TEXT.cancel}
          </button>
        </form>
      ) : (
        <span className="name" onDoubleClick={() => setEditing(true)}>
          {task.name}
        </span>
      )}
      {!editing && (
        <span className="actions">
          <button ref={renameButton} type="button" onClick={() => setEditing(true)} aria-label={TEXT.renameAria(task.name)}>
            {TEXT.rename}
          </button>
          <button type="button" className="danger" disabled={busy} onClick={() => onDelete(task)} aria-label={TEXT.deleteAria(task.name)}>
            {TEXT.delete}
          </button>
        </span>
      )}
      {error && (
        <span className="task-error" role="alert" id={`task-error-${task._id}`}>
          {error}
        </span>
      )}
    </li>
  );
}
