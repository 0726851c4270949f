import type { Task } from "../../lib/api/client";

/** How long a deleted task can be brought back before it is deleted on the server. */
export const UNDO_MILLISECONDS = 8_000;

/**
 * A page of older tasks arrived ("Load more"). `tasks`: those loaded so far, oldest first;
 * `added`: tasks added meanwhile, shown after them. The page goes between the two, without the
 * added tasks it already holds; once the last page is in, the added ones join the list.
 */
export function addedTasks(
  tasks: readonly Task[],
  added: readonly Task[],
  page: readonly Task[],
  lastPage: boolean,
): { tasks: Task[]; added: Task[] } {
  const have = new Set(tasks.map((t) => t._id));
  const fresh = page.filter((t) => !have.has(t._id));
  const inPage = new Set(fresh.map((t) => t._id));
  const stillAdded = added.filter((t) => !inPage.has(t._id));
  const merged = [...tasks, ...fresh];
  return lastPage ? { tasks: [...merged, ...stillAdded], added: [] } : { tasks: merged, added: stillAdded };
}
