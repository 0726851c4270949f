import { expect, test } from "@playwright/test";
import type { APIRequestContext, Page } from "@playwright/test";

import { SUPERUSER } from "../playwright.config";
import { PASSWORD, loginThroughUi, mailedLink, registerThroughUi, screenshot, uniqueEmail } from "./helpers";

/**
 * Issue 13 as a person meets it: an address changes only once the new one confirms (and the old
 * one can cancel), an account can be deleted for good, and its security activity can be read.
 */

const FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

async function logOut(page: Page): Promise<void> {
  await page.getByRole("banner").getByRole("button", { name: "Log out" }).click();
  await expect(page.getByRole("button", { name: "Log in" })).toBeVisible();
}

/** Email and password on the login page, expecting a refusal. */
async function loginRefused(page: Page, email: string): Promise<void> {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Wrong email or password.");
  await expect(page.getByRole("banner")).toHaveCount(0);
}

async function requestEmailChange(page: Page, newEmail: string): Promise<void> {
  await page.goto("/account");
  const section = page.getByRole("region", { name: "Change email" });
  await section.getByLabel("New email").fill(newEmail);
  await section.getByRole("button", { name: "Change email" }).click();
  await expect(section.getByRole("status")).toContainText(`We sent a confirmation link to ${newEmail}`);
  await expect(section).toContainText(`Waiting for confirmation of ${newEmail} until`);
}

/** The subjects of the mail sent to `email`, newest first. */
async function subjects(request: APIRequestContext, email: string): Promise<string[]> {
  const response = await request.get("/dev/outbox", { params: { to: email } });
  return ((await response.json()) as Array<{ subject: string }>).map((message) => message.subject);
}

async function noHorizontalScroll(page: Page): Promise<void> {
  expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
}

test("an address changes once the new one confirms; the old one can cancel", async ({ page, browser, request }) => {
  const email = uniqueEmail("mover");
  const newEmail = uniqueEmail("moved");
  await registerThroughUi(page, email);
  await requestEmailChange(page, newEmail);
  await expect(page.getByRole("banner")).toContainText(email); // nothing changed yet
  await page.reload();
  const section = page.getByRole("region", { name: "Change email" });
  await expect(section).toContainText(`Waiting for confirmation of ${newEmail} until`);
  await screenshot(page, "email-change-pending");

  // Until the new address confirms, the account signs in with the old one.
  await logOut(page);
  await loginThroughUi(page, email);

  // The old address's mail cancels the change, and the page forgets the token.
  await page.goto(await mailedLink(request, email, "/email-change/cancel"));
  await expect(page.getByRole("status")).toContainText("The change was cancelled");
  expect(new URL(page.url()).search).toBe("");
  await screenshot(page, "email-change-cancelled");
  await page.getByRole("link", { name: "Go to your account" }).click();
  await expect(section.getByLabel("New email")).toBeVisible();
  await expect(section).not.toContainText("Waiting for confirmation");

  // The cancelled change's link to the new address no longer works (in another browser, signed out).
  const stale = await mailedLink(request, newEmail, "/email-change/confirm");
  const elsewhere = await (await browser.newContext()).newPage();
  await elsewhere.goto(stale);
  await expect(elsewhere.getByRole("alert")).toContainText("nothing changed");
  await expect(elsewhere.getByRole("link", { name: "Log in" })).toBeVisible();

  // Asked again: the new address's link moves the account, and this signed-in tab shows it.
  await requestEmailChange(page, newEmail);
  await page.goto(await mailedLink(request, newEmail, "/email-change/confirm", 2));
  await expect(page.getByRole("status")).toContainText(`Your address is now ${newEmail}`);
  expect(new URL(page.url()).search).toBe("");
  await screenshot(page, "email-change-confirmed");
  await page.getByRole("link", { name: "Go to your account" }).click();
  await expect(page.getByRole("banner")).toContainText(newEmail);
  await expect(page.getByText("verified", { exact: true })).toBeVisible(); // opening the link proved it
  await expect(section).not.toContainText("Waiting for confirmation");

  await logOut(page);
  await loginThroughUi(page, newEmail);
  await logOut(page);
  await loginRefused(page, email);
});

test("deleting the account signs out every tab and leaves nothing to sign in to", async ({ page, context, request }) => {
  const email = uniqueEmail("leaver");
  await registerThroughUi(page, email);
  await page.getByLabel("New task").fill("something of mine");
  await page.getByRole("button", { name: "Add" }).click();
  await expect(page.getByRole("list", { name: "Tasks" }).getByText("something of mine")).toBeVisible();
  const otherTab = await context.newPage();
  await otherTab.goto("/account/sessions");
  await expect(otherTab.getByRole("heading", { name: "Sessions" })).toBeVisible();

  await page.goto("/account/danger");
  const zone = page.getByRole("region", { name: "Delete account" });
  await expect(zone).toContainText("This cannot be undone.");
  const button = zone.getByRole("button", { name: "Delete my account" });
  await expect(button).toBeDisabled();
  const typed = zone.getByLabel("Type your email address to confirm");
  await typed.fill("someone.else@example.com");
  await expect(button).toBeDisabled();
  await typed.fill(email);
  await expect(button).toBeEnabled();
  await screenshot(page, "delete-account");
  await button.click();

  await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible();
  await expect(page.getByText("Your account was deleted")).toBeVisible();
  await screenshot(page, "account-deleted");
  await expect(otherTab.getByRole("heading", { name: "Log in" })).toBeVisible();
  await expect(otherTab.getByText("Your account was deleted")).toBeVisible();
  await expect.poll(() => subjects(request, email)).toContain("Your account was deleted");

  await loginRefused(page, email);
  // Nothing to come back to: the refresh cookie went with the account.
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible();
});

test("the activity page lists the sign-ins of each device, and a new device is mailed", async ({ page, browser, request }) => {
  const email = uniqueEmail("watcher");
  await registerThroughUi(page, email);
  await logOut(page);
  await loginThroughUi(page, email);

  const firefox = await (await browser.newContext({ userAgent: FIREFOX })).newPage();
  await loginThroughUi(firefox, email);
  const newEmail = uniqueEmail("watched");
  await requestEmailChange(page, newEmail);

  await page.getByRole("banner").getByRole("link", { name: "Account" }).click();
  await page.getByRole("navigation", { name: "Account" }).getByRole("link", { name: "Activity" }).click();
  await expect(page.getByRole("heading", { name: "Activity" })).toBeVisible();
  const items = page.getByRole("list", { name: "Security activity" }).getByRole("listitem");
  // Sign-ins from one device and network are one entry: "Signed in 2 times with a password".
  const signIns = items.filter({ hasText: /Signed in (\d+ times )?with a password/ });
  await expect(signIns.filter({ hasText: "Firefox on Linux" })).toHaveCount(1);
  await expect(signIns.filter({ hasNotText: "Firefox on Linux" }).first()).toBeVisible(); // this browser's
  await expect(items.filter({ hasText: "Signed out" }).first()).toBeVisible();
  await expect(items.first()).toContainText(`Email change to ${newEmail} requested`); // newest first
  await expect(signIns.first().locator("time")).toHaveAttribute("title", /\d{4}/);
  await expect(signIns.first()).toContainText("IP ");
  await screenshot(page, "activity");

  // The second browser's sign-in came from a device this account had not used: its owner is told.
  await expect
    .poll(async () => (await subjects(request, email)).filter((subject) => subject.includes("New sign-in")).length)
    .toBeGreaterThanOrEqual(1);
  const outbox = (await (await request.get("/dev/outbox", { params: { to: email } })).json()) as Array<{
    subject: string;
    text: string;
  }>;
  expect(outbox.find((message) => message.subject.includes("New sign-in"))?.text).toContain("Firefox on Linux");

  // A superuser can read it too, from the user's row in the admin list.
  const admin = await (await browser.newContext()).newPage();
  await loginThroughUi(admin, SUPERUSER.email, SUPERUSER.password);
  await admin.getByRole("link", { name: "Admin" }).click();
  await admin.getByRole("searchbox", { name: "Search by email" }).fill(email);
  await admin.getByRole("button", { name: "Search" }).click();
  // The rows themselves, not the activity items that open inside one.
  const row = admin.getByRole("list", { name: "Users" }).locator(":scope > li").filter({ hasText: email });
  await row.getByRole("button", { name: "Security activity" }).click();
  await expect(row.getByRole("button", { name: "Security activity" })).toHaveAttribute("aria-expanded", "true");
  const theirs = row.getByRole("list", { name: `Security activity of ${email}` }).getByRole("listitem");
  await expect(theirs.filter({ hasText: "Signed in with a password" }).filter({ hasText: "Firefox on Linux" })).toHaveCount(1);
  await screenshot(admin, "admin-activity");

  // At phone width, the activity and the account page (pending change, deletion) fit.
  await page.setViewportSize({ width: 360, height: 740 });
  await expect(items.first()).toBeVisible();
  await noHorizontalScroll(page);
  await screenshot(page, "activity-phone");
  await page.getByRole("navigation", { name: "Account" }).getByRole("link", { name: "Profile" }).click();
  await expect(page.getByRole("region", { name: "Change email" })).toContainText("Waiting for confirmation");
  await noHorizontalScroll(page);
  await page.getByRole("navigation", { name: "Account" }).getByRole("link", { name: "Danger zone" }).click();
  await expect(page.getByRole("region", { name: "Delete account" })).toBeVisible();
  await noHorizontalScroll(page);
  await screenshot(page, "account-phone");
});
