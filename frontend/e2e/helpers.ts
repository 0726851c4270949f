import { mkdirSync } from "node:fs";

import { expect } from "@playwright/test";
import type { APIRequestContext, Page } from "@playwright/test";

export const PASSWORD = "correct horse battery staple";
export const NEW_PASSWORD = "quiet harbour lantern seven";

let counter = 0;
/** An address no other test (or earlier run) uses. */
export function uniqueEmail(label: string): string {
  counter += 1;
  return `${label}.${Date.now().toString(36)}${counter}${Math.random().toString(36).slice(2, 6)}@example.com`;
}

/** One picture per screen, kept as a test artifact. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync("test-results/screens", { recursive: true });
  await page.screenshot({ path: `test-results/screens/${name}.png`, fullPage: true });
}

export async function registerThroughUi(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.goto("/register");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  // The first-run page says where the confirmation link went; then on to the tasks.
  await expect(page.getByRole("heading", { name: "Your account is ready" })).toBeVisible();
  await page.getByRole("link", { name: "Go to your tasks" }).click();
  await expect(page.getByRole("heading", { name: "Tasks" })).toBeVisible();
}

export async function loginThroughUi(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  // Signed in: on the tasks, or back on the page the login interrupted.
  await expect(page.getByRole("banner").getByRole("button", { name: "Log out" })).toBeVisible();
}

/** Register over the API (no browser), as a fixture for tests about something else. */
export async function registerOverApi(request: APIRequestContext, email: string, password = PASSWORD): Promise<void> {
  const response = await request.post("/auth/register", { data: { email, password } });
  expect(response.status(), await response.text()).toBe(201);
}

/** The newest link to `path` in the development outbox for `email`, waiting for it to arrive. */
export async function mailedLink(request: APIRequestContext, email: string, path: string, count = 1): Promise<string> {
  let links: string[] = [];
  await expect
    .poll(
      async () => {
        const response = await request.get("/dev/outbox", { params: { to: email } });
        const messages = (await response.json()) as Array<{ links: string[] }>;
        links = messages.flatMap((m) => m.links).filter((link) => new URL(link).pathname === path);
        return links.length;
      },
      { message: `a ${path} mail for ${email}` },
    )
    .toBeGreaterThanOrEqual(count);
  return links[0]!;
}

/**
 * Open the verification link mailed to `email` in `page`, signed in to that account: the address
 * is confirmed with nothing more to type. (Adding a passkey, an authenticator app or a provider
 * needs a confirmed address.)
 */
export async function verifyInThisBrowser(page: Page, request: APIRequestContext, email: string): Promise<void> {
  await page.goto(await mailedLink(request, email, "/verify"));
  await expect(page.getByRole("status").filter({ hasText: `${email} is verified` })).toBeVisible();
}

/** Confirm `email`'s address over the API, with the account's password (no browser). */
export async function verifyOverApi(request: APIRequestContext, email: string, password = PASSWORD): Promise<void> {
  const token = new URL(await mailedLink(request, email, "/verify")).searchParams.get("token");
  const response = await request.post("/auth/verify", { data: { token, password } });
  expect(response.status(), await response.text()).toBe(200);
}

/**
 * Record, from the first script on, whether the login screen ever showed — to prove a reload
 * restores the session without flashing it.
 */
export async function watchForLoginScreen(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const seen = ((window as unknown as { __loginSeen: boolean }).__loginSeen = false);
    void seen;
    new MutationObserver(() => {
      if (document.getElementById("login-title")) (window as unknown as { __loginSeen: boolean }).__loginSeen = true;
    }).observe(document, { childList: true, subtree: true });
  });
}

export async function loginScreenWasShown(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { __loginSeen: boolean }).__loginSeen);
}
