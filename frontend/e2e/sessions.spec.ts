import { expect, test } from "@playwright/test";
import type { Response } from "@playwright/test";

import { ACCESS_TOKEN_SECONDS } from "../playwright.config";
import {
  loginScreenWasShown,
  loginThroughUi,
  registerOverApi,
  registerThroughUi,
  screenshot,
  uniqueEmail,
  watchForLoginScreen,
} from "./helpers";

test("reloading any page keeps me signed in, without flashing the login screen", async ({ page }) => {
  await registerThroughUi(page, uniqueEmail("reloader"));
  await watchForLoginScreen(page);

  for (const [path, heading] of [
    ["/", "Tasks"],
    ["/account", "Profile"], // a page that makes no API call of its own
    ["/account/sessions", "Sessions"],
  ] as const) {
    await page.goto(path);
    await page.reload();
    await expect(page.getByRole("heading", { name: heading, exact: true })).toBeVisible();
    expect(await loginScreenWasShown(page), path).toBe(false);
  }
});

test("the access token is only in memory", async ({ page, context }) => {
  await registerThroughUi(page, uniqueEmail("memory"));
  await page.getByLabel("New task").fill("check storage");
  await page.getByRole("button", { name: "Add" }).click();
  await expect(page.getByRole("list", { name: "Tasks" }).getByText("check storage")).toBeVisible();

  const storage = await page.evaluate(() => ({
    local: localStorage.length,
    session: sessionStorage.length,
    cookies: document.cookie,
  }));
  expect(storage.local).toBe(0);
  expect(storage.session).toBe(0);
  expect(storage.cookies).not.toContain("FARM_auth"); // HttpOnly: invisible to scripts
  expect(storage.cookies).not.toContain("FARM_refresh");
  const cookies = await context.cookies();
  expect(cookies.find((c) => c.name === "FARM_refresh")).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/auth/jwt/refresh" });
});

test("logging out in one tab logs out the other", async ({ context }) => {
  const first = await context.newPage();
  await registerThroughUi(first, uniqueEmail("tabs"));
  const second = await context.newPage();
  await second.goto("/account/sessions");
  await expect(second.getByRole("heading", { name: "Sessions" })).toBeVisible();

  await first.getByRole("button", { name: "Log out" }).click();

  await expect(first.getByText("You are logged out.")).toBeVisible();
  await expect(second.getByRole("heading", { name: "Log in" })).toBeVisible();
  await expect(second.getByText("You logged out in another tab.")).toBeVisible();
});

test("the access token is refreshed silently before it expires", async ({ page }) => {
  const refreshes: Response[] = [];
  const unauthorized: string[] = [];
  page.on("response", (response) => {
    if (response.url().endsWith("/auth/jwt/refresh")) refreshes.push(response);
    else if (response.status() === 401) unauthorized.push(response.url());
  });
  await registerThroughUi(page, uniqueEmail("silent"));
  const before = refreshes.length;

  // Idle for longer than a token lives: with no refresh, the next call would be a 401.
  await page.waitForTimeout((ACCESS_TOKEN_SECONDS + 5) * 1000);
  await page.getByLabel("New task").fill("added after the first token expired");
  await page.getByRole("button", { name: "Add" }).click();

  await expect(page.getByRole("list", { name: "Tasks" }).getByText("added after the first token expired")).toBeVisible();
  const silent = refreshes.slice(before); // before: the page load's attempt, with no cookie yet
  expect(silent.length).toBeGreaterThan(0);
  expect(silent.map((r) => r.status())).toEqual(silent.map(() => 200));
  expect(unauthorized).toEqual([]); // never a failed call the user could notice
  await expect(page.getByRole("heading", { name: "Tasks" })).toBeVisible();
});

test("the sessions screen ends another device, which lands on login with a message", async ({ browser }) => {
  const email = uniqueEmail("two.devices");
  const laptop = await (await browser.newContext({ userAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0" })).newPage();
  await registerThroughUi(laptop, email);
  const phone = await (
    await browser.newContext({ userAgent: "Mozilla/5.0 (Linux; Android 15) AppleWebKit/537.36 Chrome/150.0 Mobile Safari/537.36" })
  ).newPage();
  await loginThroughUi(phone, email);

  await laptop.getByRole("link", { name: "Account" }).click();
  await laptop.getByRole("navigation", { name: "Account" }).getByRole("link", { name: "Sessions" }).click();
  const sessions = laptop.getByRole("list", { name: "Sessions" }).getByRole("listitem");
  await expect(sessions).toHaveCount(2);
  await expect(sessions.filter({ hasText: "this device" })).toContainText("Firefox on Linux");
  await expect(sessions.filter({ hasText: "Chrome on Android" })).toContainText("Last used");
  await screenshot(laptop, "sessions");
  await laptop.getByRole("button", { name: /End session: Chrome on Android/ }).click();
  await expect(laptop.getByRole("status")).toContainText("Ended the session of Chrome on Android");
  await expect(sessions).toHaveCount(1);

  // The phone's next request fails, its refresh says the session ended, and it shows the login.
  await phone.getByLabel("New task").fill("too late");
  await phone.getByRole("button", { name: "Add" }).click();
  await expect(phone.getByRole("heading", { name: "Log in" })).toBeVisible();
  await expect(phone.getByText("Your session was ended")).toBeVisible();
});

test("end all other sessions", async ({ browser, request }) => {
  const email = uniqueEmail("many.devices");
  await registerOverApi(request, email);
  const pages = [];
  for (let i = 0; i < 3; i += 1) {
    const page = await (await browser.newContext()).newPage();
    await loginThroughUi(page, email);
    pages.push(page);
  }
  const [mine, ...others] = pages as [typeof pages[0], ...typeof pages];
  await mine.goto("/account/sessions");
  await expect(mine.getByRole("list", { name: "Sessions" }).getByRole("listitem")).toHaveCount(3);

  await mine.getByRole("button", { name: "End all other sessions" }).click();

  await expect(mine.getByRole("list", { name: "Sessions" }).getByRole("listitem")).toHaveCount(1);
  for (const other of others) {
    await other.reload();
    await expect(other.getByRole("heading", { name: "Log in" })).toBeVisible();
    await expect(other.getByText("Your session was ended")).toBeVisible();
  }
});
