import { expect, test } from "@playwright/test";
import type { APIRequestContext, BrowserContext, Page } from "@playwright/test";

import { ACCESS_TOKEN_SECONDS } from "../playwright.config";
import { PASSWORD, loginThroughUi, registerOverApi, uniqueEmail } from "./helpers";

/**
 * One browser, one account: the refresh cookie is shared by every tab, so when another tab
 * signs in as Bob, a tab still showing Alice must start over as Bob — never show Alice's tasks
 * under Bob's name, never send a request meant for Alice as Bob.
 */

const ALICE_TASK = "Alice's private plan";

async function twoAccounts(request: APIRequestContext): Promise<{ alice: string; bob: string }> {
  const alice = uniqueEmail("alice.switch");
  const bob = uniqueEmail("bob.switch");
  await registerOverApi(request, alice);
  await registerOverApi(request, bob);
  return { alice, bob };
}

/** A tab signed in as Alice, with a task of hers on screen. */
async function tabOfAlice(context: BrowserContext, alice: string, bob: string, prepare?: (page: Page) => Promise<void>) {
  const page = await context.newPage();
  await prepare?.(page);
  await watchForMixing(page, bob, ALICE_TASK);
  await loginThroughUi(page, alice);
  await page.getByLabel("New task").fill(ALICE_TASK);
  await page.getByRole("button", { name: "Add" }).click();
  await expect(page.getByRole("list", { name: "Tasks" }).getByText(ALICE_TASK)).toBeVisible();
  return page;
}

/**
 * Record, from the first script on, whether the page ever showed `email` as the signed-in
 * user while `secret` (someone else's task) was on screen — a moment a screenshot could miss.
 */
async function watchForMixing(page: Page, email: string, secret: string): Promise<void> {
  await page.addInitScript(
    ({ email, secret }) => {
      const flags = window as unknown as { __mixed: boolean };
      flags.__mixed = false;
      new MutationObserver(() => {
        const shown = document.querySelector("header .email")?.textContent;
        if (shown === email && document.body.textContent?.includes(secret)) flags.__mixed = true;
      }).observe(document, { childList: true, subtree: true, characterData: true });
    },
    { email, secret },
  );
}

async function wasMixed(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { __mixed: boolean }).__mixed);
}

/** The tab starts over as Bob: the start page, his (empty) tasks, his address, and why. */
async function expectStartedOverAs(page: Page, bob: string): Promise<void> {
  const notice = page.getByRole("status").filter({ hasText: "You are now signed in as" });
  await expect(notice).toContainText(bob);
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("heading", { name: "Tasks" })).toBeVisible();
  await expect(page.getByText("No tasks yet")).toBeVisible();
  await expect(page.getByRole("banner")).toContainText(bob);
  expect(await wasMixed(page)).toBe(false);

  await notice.getByRole("button", { name: "Dismiss" }).click();
  await expect(notice).toHaveCount(0);
}

test("signing in as someone else in one tab switches the other tab at once", async ({ context, request }) => {
  const { alice, bob } = await twoAccounts(request);
  const first = await tabOfAlice(context, alice, bob);
  await first.getByRole("link", { name: "Account" }).click(); // not on the start page
  const second = await context.newPage();
  await second.goto("/");
  await expect(second.getByRole("banner")).toContainText(alice);

  await second.getByRole("button", { name: "Log out" }).click();
  await expect(first.getByText("You logged out in another tab.")).toBeVisible();
  await loginThroughUi(second, bob);

  await expectStartedOverAs(first, bob);
});

test("a tab that heard nothing switches at its next action, which is not replayed as the new user", async ({
  context,
  request,
}) => {
  const { alice, bob } = await twoAccounts(request);
  // This tab misses the other tab's messages, and its timers stand still (a frozen background
  // tab): only its own next request can find out.
  const first = await tabOfAlice(context, alice, bob, async (page) => {
    await page.addInitScript(() => {
      delete (window as { BroadcastChannel?: unknown }).BroadcastChannel;
    });
    await page.clock.install();
    await page.clock.pauseAt(Date.now() + 1_000);
  });
  const second = await context.newPage();
  await second.goto("/");
  await second.getByRole("button", { name: "Log out" }).click();
  await loginThroughUi(second, bob);
  await expect(first.getByRole("list", { name: "Tasks" }).getByText(ALICE_TASK)).toBeVisible(); // none the wiser

  // Alice's session is over: the request fails, the refresh brings Bob's token.
  await first.getByLabel("New task").fill("meant for Alice");
  await first.getByRole("button", { name: "Add" }).click();

  await expectStartedOverAs(first, bob);
  await second.reload();
  await expect(second.getByText("No tasks yet")).toBeVisible(); // nothing was added as Bob
});

test("a scheduled refresh that brings another user switches the tab", async ({ context, request }) => {
  const { alice, bob } = await twoAccounts(request);
  const first = await tabOfAlice(context, alice, bob);
  await first.getByRole("link", { name: "Account" }).click(); // not on the start page
  await expect(first.getByRole("heading", { name: "Profile", exact: true })).toBeVisible();

  // Bob signs in without any tab of the app knowing: only the shared cookie changes, and
  // Alice's session stays valid.
  const login = await context.request.post("/auth/jwt/login", { form: { username: bob, password: PASSWORD } });
  expect(login.status(), await login.text()).toBe(200);

  await expect(first.getByRole("status").filter({ hasText: "You are now signed in as" })).toBeVisible({
    timeout: ACCESS_TOKEN_SECONDS * 1000,
  });
  await expectStartedOverAs(first, bob);
});
