import { expect, test } from "@playwright/test";

import { PASSWORD, registerOverApi, registerThroughUi, screenshot, uniqueEmail, loginThroughUi } from "./helpers";

test("add, rename, complete, filter and delete tasks", async ({ page }) => {
  await registerThroughUi(page, uniqueEmail("doer"));
  const newTask = page.getByLabel("New task");
  for (const name of ["Buy milk", "Write report", "Call mum"]) {
    await newTask.fill(name);
    await newTask.press("Enter"); // keyboard only
    await expect(page.getByRole("list", { name: "Tasks" }).getByText(name)).toBeVisible();
  }
  const tasks = page.getByRole("list", { name: "Tasks" });
  await expect(tasks.getByRole("listitem")).toHaveText([/Buy milk/, /Write report/, /Call mum/]);

  // Rename inline: Enter saves, Escape cancels.
  await page.getByRole("button", { name: "Rename “Write report”" }).click();
  const rename = page.getByLabel("New name for “Write report”");
  await rename.fill("Write the quarterly report");
  await rename.press("Enter");
  await expect(tasks.getByText("Write the quarterly report")).toBeVisible();
  await tasks.getByText("Call mum").dblclick();
  await page.getByLabel("New name for “Call mum”").fill("changed my mind");
  await page.getByLabel("New name for “Call mum”").press("Escape");
  await expect(tasks.getByText("Call mum")).toBeVisible();

  await page.getByLabel("Mark “Buy milk” as done").check();
  await expect(page.getByLabel("Mark “Buy milk” as not done")).toBeChecked();
  await screenshot(page, "tasks");

  await page.getByRole("button", { name: "Open" }).click();
  await expect(tasks.getByRole("listitem")).toHaveText([/Write the quarterly report/, /Call mum/]);
  await page.getByRole("button", { name: "Done" }).click();
  await expect(tasks.getByRole("listitem")).toHaveText([/Buy milk/]);
  // Under "Done", unchecking removes the row: click, then look for the outcome (uncheck() would
  // wait for a state change on a checkbox that is gone).
  await page.getByLabel("Mark “Buy milk” as not done").click();
  await expect(page.getByText("Nothing finished yet.")).toBeVisible();
  await page.getByRole("button", { name: "All" }).click();

  await page.getByRole("button", { name: "Delete “Call mum”" }).click();
  await expect(tasks.getByText("Call mum")).toHaveCount(0);
  // Leaving the page sends the deletion at once (its Undo is over).
  await page.reload();
  await expect(tasks.getByRole("listitem")).toHaveText([/Buy milk/, /Write the quarterly report/]);
});

test("a name of only spaces is refused by the field, in plain words", async ({ page }) => {
  await registerThroughUi(page, uniqueEmail("blank"));
  const input = page.getByLabel("New task");
  await input.fill("   ");
  await page.getByRole("button", { name: "Add" }).click();

  await expect(page.getByRole("alert")).toHaveText("Type a name for the task.");
  await expect(input).toHaveAttribute("aria-invalid", "true");
  await expect(input).toHaveAccessibleDescription("Type a name for the task.");
  await expect(input).toBeFocused();
  await expect(page.getByText(/String should/)).toHaveCount(0);
});

test("long lists load incrementally", async ({ page, request }) => {
  const email = uniqueEmail("busy");
  await registerOverApi(request, email);
  const login = await request.post("/auth/jwt/login", { form: { username: email, password: PASSWORD } });
  const token = ((await login.json()) as { access_token: string }).access_token;
  for (let i = 1; i <= 45; i += 1) {
    await request.post("/task/", { data: { name: `Task ${String(i).padStart(2, "0")}` }, headers: { Authorization: `Bearer ${token}` } });
  }
  await loginThroughUi(page, email);

  const items = page.getByRole("list", { name: "Tasks" }).getByRole("listitem");
  await expect(items).toHaveCount(20);
  await page.getByRole("button", { name: "Load more" }).click();
  await expect(items).toHaveCount(40);
  await page.getByRole("button", { name: "Load more" }).click();
  await expect(items).toHaveCount(45);
  await expect(page.getByRole("button", { name: "Load more" })).toHaveCount(0);
  await expect(items.last()).toContainText("Task 45");
});

test("a second user never sees the first one's tasks", async ({ browser }) => {
  const alice = await (await browser.newContext()).newPage();
  await registerThroughUi(alice, uniqueEmail("alice"));
  await alice.getByLabel("New task").fill("Alice's secret plan");
  await alice.getByRole("button", { name: "Add" }).click();
  await expect(alice.getByRole("list", { name: "Tasks" }).getByText("Alice's secret plan")).toBeVisible();

  const bob = await (await browser.newContext()).newPage();
  await registerThroughUi(bob, uniqueEmail("bob"));

  await expect(bob.getByText("No tasks yet")).toBeVisible();
  await expect(bob.getByText("Alice's secret plan")).toHaveCount(0);
});

test("works at phone width", async ({ browser }) => {
  const page = await (await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true })).newPage();
  await registerThroughUi(page, uniqueEmail("phone"));
  await page.getByLabel("New task").fill("A task with a rather long name that has to wrap on a small screen");
  await page.getByRole("button", { name: "Add" }).click();
  await expect(page.getByRole("list", { name: "Tasks" }).getByRole("listitem")).toHaveCount(1);

  for (const path of ["/", "/welcome", "/account", "/account/security", "/account/sessions", "/account/activity", "/account/danger"]) {
    await page.goto(path);
    await expect(page.getByRole("main")).toBeVisible();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, path).toBeLessThanOrEqual(0);
  }
  await page.goto("/");
  await expect(page.getByRole("list", { name: "Tasks" }).getByRole("listitem")).toHaveCount(1);
  await screenshot(page, "tasks-phone");
});

test("a task added while older pages are unloaded shows at once, and at the end once they are", async ({ page, request }) => {
  const email = uniqueEmail("many");
  await registerOverApi(request, email);
  const login = await request.post("/auth/jwt/login", { form: { username: email, password: PASSWORD } });
  const headers = { Authorization: `Bearer ${((await login.json()) as { access_token: string }).access_token}` };
  for (let i = 1; i <= 25; i += 1) await request.post("/task/", { data: { name: `Old ${String(i).padStart(2, "0")}` }, headers });
  await loginThroughUi(page, email);
  const items = page.getByRole("list", { name: "Tasks" }).getByRole("listitem");
  await expect(items).toHaveCount(20);

  await page.getByLabel("New task").fill("Brand new");
  await page.getByLabel("New task").press("Enter");
  await expect(items.filter({ hasText: "Brand new" })).toBeVisible();
  await expect(page.getByText("Added “Brand new”: it is at the end of your list.")).toBeVisible();
  await expect(page.getByLabel("New task")).toHaveValue("");
  await expect(page.getByLabel("New task")).toBeFocused();

  await page.getByRole("button", { name: "Load more" }).click();
  await expect(items).toHaveCount(26);
  await expect(items.last()).toContainText("Brand new");
  await expect(items.nth(24)).toContainText("Old 25");
});

test("keyboard focus follows every action on a task", async ({ page }) => {
  await registerThroughUi(page, uniqueEmail("keys"));
  const input = page.getByLabel("New task");
  for (const name of ["First", "Second", "Third"]) {
    await input.fill(name);
    await input.press("Enter");
    await expect(input).toBeFocused(); // ready for the next one
  }
  const tasks = page.getByRole("list", { name: "Tasks" });
  await expect(tasks.getByRole("listitem")).toHaveCount(3);

  // Space ticks the box, and the focus stays on it while and after it is saved.
  const box = page.getByLabel("Mark “First” as done");
  await box.focus();
  await page.keyboard.press("Space");
  await expect(page.getByLabel("Mark “First” as not done")).toBeChecked();
  await expect(page.getByLabel("Mark “First” as not done")).toBeFocused();

  // Renaming: Enter, Escape and Cancel all give the focus back to the Rename button.
  const renameSecond = page.getByRole("button", { name: "Rename “Second”" });
  await renameSecond.click();
  await page.keyboard.press("Escape");
  await expect(renameSecond).toBeFocused();
  await renameSecond.press("Enter");
  await page.getByRole("button", { name: "Cancel" }).click();
  await expect(renameSecond).toBeFocused();
  await renameSecond.press("Enter");
  await page.getByLabel("New name for “Second”").fill("Second, renamed");
  await page.keyboard.press("Enter");
  await expect(page.getByRole("button", { name: "Rename “Second, renamed”" })).toBeFocused();

  // Deleting: the focus moves to the next task, and to the new-task field after the last one.
  await page.getByRole("button", { name: "Delete “Second, renamed”" }).click();
  await expect(page.getByLabel("Mark “Third” as done")).toBeFocused();
  await page.getByRole("button", { name: "Delete “Third”" }).click();
  await expect(page.getByLabel("Mark “First” as not done")).toBeFocused();
  await page.getByRole("button", { name: "Delete “First”" }).click();
  await expect(input).toBeFocused();
});

test("a deleted task can be brought back from its toast, until the toast is gone", async ({ page }) => {
  await registerThroughUi(page, uniqueEmail("undo"));
  const input = page.getByLabel("New task");
  for (const name of ["Keep me", "Lose me", "Last"]) {
    await input.fill(name);
    await input.press("Enter");
  }
  const tasks = page.getByRole("list", { name: "Tasks" });
  await page.getByRole("button", { name: "Delete “Lose me”" }).click();
  const toast = page.getByRole("region", { name: "Notifications" });
  await expect(toast).toContainText("Deleted “Lose me”.");
  await toast.getByRole("button", { name: "Undo" }).click();
  await expect(tasks.getByRole("listitem")).toHaveText([/Keep me/, /Lose me/, /Last/]);
  await page.reload(); // it never left the server
  await expect(tasks.getByRole("listitem")).toHaveText([/Keep me/, /Lose me/, /Last/]);

  await page.getByRole("button", { name: "Delete “Lose me”" }).click();
  await expect(toast.getByRole("button", { name: "Undo" })).toBeVisible();
  await expect(toast.getByRole("button", { name: "Undo" })).toHaveCount(0, { timeout: 15_000 }); // its time is over
  await page.reload();
  await expect(tasks.getByRole("listitem")).toHaveText([/Keep me/, /Last/]);
});

test("task checkboxes are at least 24 pixels", async ({ page }) => {
  await registerThroughUi(page, uniqueEmail("target"));
  await page.getByLabel("New task").fill("Big enough");
  await page.getByLabel("New task").press("Enter");
  const box = await page.getByLabel("Mark “Big enough” as done").boundingBox();
  expect(box?.width).toBeGreaterThanOrEqual(24);
  expect(box?.height).toBeGreaterThanOrEqual(24);
});

test("tasks typed while the last one is still saving are all added, in order; a refused one comes back", async ({ page }) => {
  await registerThroughUi(page, uniqueEmail("typeahead"));
  // A slow server: each add takes a moment to answer.
  await page.route("**/task/", async (route) => {
    if (route.request().method() === "POST") await new Promise((resolve) => setTimeout(resolve, 400));
    await route.fallback();
  });
  const input = page.getByLabel("New task");
  for (const name of ["One", "Two", "Three"]) {
    await input.pressSequentially(name);
    await input.press("Enter");
    await expect(input).toHaveValue(""); // taken at once: the next one can be typed
  }
  const items = page.getByRole("list", { name: "Tasks" }).getByRole("listitem");
  await expect(items).toHaveCount(3);
  await expect(items).toContainText(["One", "Two", "Three"]);

  // Refused (the server is down for a moment): the name is back in the field, with why.
  await page.unroute("**/task/");
  await page.route("**/task/", async (route) => {
    if (route.request().method() !== "POST") return route.fallback();
    await route.fulfill({ status: 503, headers: { "Retry-After": "1" }, json: { detail: "The database is unavailable." } });
  });
  await input.fill("Four");
  await input.press("Enter");
  await expect(page.locator("#new-task-error")).toBeVisible();
  await expect(input).toHaveValue("Four");
  await page.unroute("**/task/");
  await input.press("Enter");
  await expect(items).toHaveCount(4);
  await expect(input).toHaveValue("");
});

test("a delete still waiting out its Undo is sent before logging out", async ({ page }) => {
  const email = uniqueEmail("undo.logout");
  await registerThroughUi(page, email);
  const input = page.getByLabel("New task");
  for (const name of ["Stays", "Goes"]) {
    await input.fill(name);
    await input.press("Enter");
  }
  const tasks = page.getByRole("list", { name: "Tasks" });
  await expect(tasks.getByRole("listitem")).toHaveCount(2);
  await page.getByRole("button", { name: "Delete “Goes”" }).click();
  await page.getByRole("banner").getByRole("button", { name: "Log out" }).click();
  await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible();
  await loginThroughUi(page, email);
  await expect(tasks.getByRole("listitem")).toHaveCount(1);
  await expect(tasks).toContainText("Stays");
});
