import { expect, test } from "@playwright/test";

import { mailedLink, registerThroughUi, screenshot, uniqueEmail } from "./helpers";

const SENT = "If an account exists for that address, we sent a sign-in link. It works once, for 15 minutes.";

test("a mailed sign-in link signs in once, verifies the address, then says it was used", async ({ page, request }) => {
  const email = uniqueEmail("linked");
  await registerThroughUi(page, email);
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible();

  await page.getByRole("button", { name: "Email me a sign-in link" }).click();
  await expect(page.getByLabel("Email")).toBeFocused();
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Send me a sign-in link" }).click();
  await expect(page.getByRole("status").filter({ hasText: SENT })).toBeVisible();
  await screenshot(page, "sign-in-link-request");

  const link = await mailedLink(request, email, "/sign-in/link");
  expect(new URL(link).origin).toBe(new URL(page.url()).origin);
  await page.goto(link);
  await expect(page.getByRole("heading", { name: "Tasks" })).toBeVisible();
  expect(new URL(page.url()).pathname).toBe("/"); // the token is gone from the address bar
  await expect(page.getByRole("banner")).toContainText(email);
  await page.getByRole("link", { name: "Account" }).click();
  await expect(page.getByText("verified", { exact: true })).toBeVisible();
  await page.reload(); // a real session: the refresh cookie brings it back
  await expect(page.getByRole("banner")).toContainText(email);

  await page.goto(link);
  await expect(page.getByRole("alert")).toHaveText("This sign-in link has expired or was already used. Ask for a new one.");
  await screenshot(page, "sign-in-link-used");
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Send me a sign-in link" }).click();
  await expect(page.getByRole("status").filter({ hasText: SENT })).toBeVisible();
  expect(await mailedLink(request, email, "/sign-in/link", 2)).not.toBe(link);
});

test("asking for a link for an unknown address answers the same and mails nothing", async ({ page, request }) => {
  const email = uniqueEmail("nobody");
  await page.goto("/login");
  await page.getByRole("button", { name: "Email me a sign-in link" }).click();
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Send me a sign-in link" }).click();

  await expect(page.getByRole("status").filter({ hasText: SENT })).toBeVisible();
  await page.getByRole("button", { name: "Log in with a password instead" }).click();
  await expect(page.getByLabel("Password")).toBeVisible();
  const outbox = await request.get("/dev/outbox", { params: { to: email } });
  expect(await outbox.json()).toEqual([]);
});
