import { useCallback, useEffect, useState } from "react";
import type { FormEvent, KeyboardEvent } from "react";

import { Alert, Spinner, useAction } from "../../components/ui";
import { api } from "../../lib/api/client";
import type { Task } from "../../lib/api/client";
import { errorMessage } from "../../lib/api/errors";
import { nextCursor } from "../../lib/api/paging";

export const PAGE_SIZE = 20;
type Filter = "all" | "open" | "done";
const FILTERS: Array<{ value: Filter; label: string }> = [
  { value: "all", label: "All" },
  { value: "open", label: "Open" },
  { value: "done", label: "Done" },
];
const EMPTY: Record<Filter, string> = {
  all: "No tasks yet. Add your first one above.",
  open: "Nothing left to do.",
  done: "Nothing finished yet.",
};

const completedParam = (filter: Filter) => (filter === "all" ? undefined : filter === "done");
const belongs = (task: Task, filter: Filter) => filter === "all" || task.completed === (filter === "done");

export function TodosPage() {
  const [filter, setFilter] = useState<Filter>("all");
  const [tasks, setTasks] = useState<Task[]>([]);
  const [loaded, setLoaded] = useState(false);
  // The next page's cursor, from the Link header of the last page loaded; null at the end.
  const [next, setNext] = useState<string | null>(null);
  const hasMore = next !== null;
  const load = useAction(async (current: Filter, cursor: string | null) => {
    const query = { completed: completedParam(current), limit: PAGE_SIZE, ...(cursor ? { cursor } : {}) };
    const { data, error, response } = await api.GET("/task/", { params: { query } });
    if (error !== undefined) return { error };
    return { data: { tasks: data ?? [], next: nextCursor(response.headers.get("link")) } };
  });
  const add = useAction((name: string) => api.POST("/task/", { body: { name } }));
  const loadPage = load.run;

  const loadFirstPage = useCallback(
    async (current: Filter) => {
      setLoaded(false);
      const result = await loadPage(current, null);
      if (result.ok && result.data) {
        setTasks(result.data.tasks);
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
      const { tasks: more, next: after } = result.data;
      setTasks((current) => [...current, ...more.filter((t) => !current.some((c) => c._id === t._id))]);
      setNext(after);
    }
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const name = String(new FormData(form).get("name"));
    const result = await add.run(name);
    if (result.ok && result.data) {
      const task = result.data;
      form.reset();
      // Oldest first: a new task belongs at the end, once the end is on screen.
      if (belongs(task, filter) && !hasMore) setTasks((current) => [...current, task]);
    }
  }

  const replace = (task: Task) =>
    setTasks((current) =>
      belongs(task, filter) ? current.map((t) => (t._id === task._id ? task : t)) : current.filter((t) => t._id !== task._id),
    );
  const remove = (id: string) => setTasks((current) => current.filter((t) => t._id !== id));

  return (
    <section aria-labelledby="tasks-title">
      <h1 id="tasks-title">Tasks</h1>
      <form className="inline-form" onSubmit={submit} aria-label="Add a task">
        <label htmlFor="new-task" className="visually-hidden">
          New task
        </label>
        <input id="new-task" name="name" placeholder="What needs doing?" maxLength={500} required autoComplete="off" />
        <button type="submit" className="primary" disabled={add.busy} aria-busy={add.busy}>
          {add.busy ? "Adding…" : "Add"}
        </button>
      </form>
      <Alert kind="error">{add.error}</Alert>

      <div className="filters" role="group" aria-label="Show">
        {FILTERS.map(({ value, label }) => (
          <button key={value} type="button" aria-pressed={filter === value} onClick={() => setFilter(value)}>
            {label}
          </button>
        ))}
      </div>

      <Alert kind="error">{load.error}</Alert>
      {!loaded ? (
        <Spinner label="Loading tasks…" />
      ) : tasks.length === 0 && !load.error ? (
        <p className="empty">{EMPTY[filter]}</p>
      ) : (
        <ul className="tasks" aria-label="Tasks">
          {tasks.map((task) => (
            <TaskItem key={task._id} task={task} onChange={replace} onDelete={remove} />
          ))}
        </ul>
      )}
      {loaded && hasMore && (
        <button type="button" className="more" onClick={() => void loadMore()} disabled={load.busy} aria-busy={load.busy}>
          {load.busy ? "Loading…" : "Load more"}
        </button>
      )}
    </section>
  );
}

function TaskItem({ task, onChange, onDelete }: { task: Task; onChange(task: Task): void; onDelete(id: string): void }) {
  const [editing, setEditing] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [completed, setCompleted] = useState(task.completed);
  useEffect(() => setCompleted(task.completed), [task.completed]);

  async function act(
    call: () => Promise<{ data?: unknown; error?: unknown; response: Response }>,
    after: (data: unknown) => void,
  ): Promise<boolean> {
    setBusy(true);
    setError(null);
    try {
      const { data, error: failure, response } = await call();
      if (response.ok) after(data);
      else setError(errorMessage(failure));
      return response.ok;
    } catch {
      setError("The server could not be reached.");
      return false;
    } finally {
      setBusy(false);
    }
  }

  const update = (body: { name?: string; completed?: boolean }) =>
    act(
      () => api.PUT("/task/{id}", { params: { path: { id: task._id } }, body }),
      (data) => {
        setEditing(false);
        onChange(data as Task);
      },
    );

  const rename = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const name = String(new FormData(event.currentTarget).get("name"));
    if (name.trim() === task.name) setEditing(false);
    else void update({ name });
  };

  const cancelOnEscape = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === "Escape") setEditing(false);
  };

  return (
    <li className={completed ? "task done" : "task"} aria-busy={busy}>
      <input
        type="checkbox"
        checked={completed}
        disabled={busy}
        onChange={() => {
          setCompleted(!completed); // at once; put back if the server refuses
          void update({ completed: !completed }).then((ok) => ok || setCompleted(task.completed));
        }}
        aria-label={`Mark “${task.name}” as ${completed ? "not done" : "done"}`}
      />
      {editing ? (
        <form className="rename" onSubmit={rename}>
          <label htmlFor={`rename-${task._id}`} className="visually-hidden">
            New name for “{task.name}”
          </label>
          <input
            id={`rename-${task._id}`}
            name="name"
            defaultValue={task.name}
            maxLength={500}
            required
            autoFocus
            onKeyDown={cancelOnEscape}
          />
          <button type="submit" disabled={busy}>
            Save
          </button>
          <button type="button" onClick={() => setEditing(false)}>
            Cancel
          </button>
        </form>
      ) : (
        <span className="name" onDoubleClick={() => setEditing(true)}>
          {task.name}
        </span>
      )}
      {!editing && (
        <span className="actions">
          <button type="button" onClick={() => setEditing(true)} aria-label={`Rename “${task.name}”`}>
            Rename
          </button>
          <button
            type="button"
            className="danger"
            disabled={busy}
            onClick={() => void act(() => api.DELETE("/task/{id}", { params: { path: { id: task._id } } }), () => onDelete(task._id))}
            aria-label={`Delete “${task.name}”`}
          >
            Delete
          </button>
        </span>
      )}
      {error && (
        <span className="task-error" role="alert">
          {error}
        </span>
      )}
    </li>
  );
}
