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
  await page.reload();
  await expect(tasks.getByRole("listitem")).toHaveText([/Buy milk/, /Write the quarterly report/]);
});

test("an empty name is refused with the API's reason", async ({ page }) => {
  await registerThroughUi(page, uniqueEmail("blank"));
  await page.getByLabel("New task").fill("   ");
  await page.getByRole("button", { name: "Add" }).click();

  await expect(page.getByRole("alert")).toContainText("name");
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
  await expect(alice.getByText("Alice's secret plan")).toBeVisible();

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

  for (const path of ["/", "/account", "/sessions"]) {
    await page.goto(path);
    await expect(page.getByRole("main")).toBeVisible();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, path).toBeLessThanOrEqual(0);
  }
  await page.goto("/");
  await expect(page.getByRole("list", { name: "Tasks" }).getByRole("listitem")).toHaveCount(1);
  await screenshot(page, "tasks-phone");
});
