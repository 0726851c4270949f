import { expect, test } from "@playwright/test";

import { SUPERUSER } from "../playwright.config";
import { PASSWORD, loginThroughUi, registerOverApi, registerThroughUi, screenshot, uniqueEmail } from "./helpers";

test("superusers list, search and manage users", async ({ page, browser, request }) => {
  const target = uniqueEmail("managed");
  await registerOverApi(request, target);
  await loginThroughUi(page, SUPERUSER.email, SUPERUSER.password);

  await page.getByRole("link", { name: "Admin" }).click();
  await expect(page.getByRole("heading", { name: "Users" })).toBeVisible();
  await page.getByRole("searchbox", { name: "Search by email" }).fill(target.split("@")[0]!);
  await page.getByRole("button", { name: "Search" }).click();
  const row = page.getByRole("list", { name: "Users" }).getByRole("listitem");
  await expect(row).toHaveCount(1);
  await expect(row).toContainText(target);
  await screenshot(page, "admin");

  await row.getByRole("button", { name: "Make superuser" }).click();
  await expect(row.getByText("superuser", { exact: true })).toBeVisible();
  await row.getByRole("button", { name: "Remove superuser" }).click();
  await expect(row.getByText("superuser", { exact: true })).toHaveCount(0);

  await row.getByRole("button", { name: "Deactivate" }).click();
  await expect(row.getByText("inactive")).toBeVisible();
  const login = await request.post("/auth/jwt/login", { form: { username: target, password: PASSWORD } });
  expect(login.status()).toBe(400);
  await row.getByRole("button", { name: "Activate" }).click();
  await expect(row.getByText("active", { exact: true })).toBeVisible();

  page.once("dialog", (dialog) => void dialog.accept());
  await row.getByRole("button", { name: "Delete" }).click();
  await expect(page.getByRole("status")).toContainText(`Deleted ${target}`);
  await expect(page.getByText(/No user matches/)).toBeVisible();

  // Regular users get neither the link nor the data.
  const regular = await (await browser.newContext()).newPage();
  await registerThroughUi(regular, uniqueEmail("regular"));
  await expect(regular.getByRole("link", { name: "Admin" })).toHaveCount(0);
  await regular.goto("/admin");
  await expect(regular.getByRole("heading", { name: "Not allowed" })).toBeVisible();
  await expect(regular.getByRole("list", { name: "Users" })).toHaveCount(0);
});
