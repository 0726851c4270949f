import { describe, expect, it } from "vitest";

import type { Task } from "../../lib/api/client";
import { addedTasks } from "./listing";

const task = (id: string): Task => ({ _id: id, name: id, completed: false, created_at: "", updated_at: "" }) as Task;
const ids = (list: readonly Task[]) => list.map((t) => t._id);

describe("tasks added while older pages are unloaded", () => {
  it("stay after the tasks of each page that arrives, then join the list at the last page", () => {
    const first = addedTasks([task("a"), task("b")], [task("new")], [task("c")], false);
    expect(ids(first.tasks)).toEqual(["a", "b", "c"]);
    expect(ids(first.added)).toEqual(["new"]);

    const last = addedTasks(first.tasks, first.added, [task("d")], true);
    expect(ids(last.tasks)).toEqual(["a", "b", "c", "d", "new"]);
    expect(last.added).toEqual([]);
  });

  it("are not shown twice when a page brings them", () => {
    const merged = addedTasks([task("a")], [task("new")], [task("b"), task("new")], true);
    expect(ids(merged.tasks)).toEqual(["a", "b", "new"]);
  });

  it("do not repeat tasks already loaded", () => {
    expect(ids(addedTasks([task("a")], [], [task("a"), task("b")], false).tasks)).toEqual(["a", "b"]);
  });
});
