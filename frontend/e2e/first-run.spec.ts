import { expect, test } from "@playwright/test";

import { PASSWORD, loginThroughUi, mailedLink, registerOverApi, uniqueEmail } from "./helpers";

/**
 * A new account explains itself: where the confirmation link went, how to have it again, how to
 * mend a mistyped address, a quiet reminder on every page until it is done, and a dead link that
 * offers a new one.
 */

async function mailsTo(request: import("@playwright/test").APIRequestContext, email: string, path: string): Promise<number> {
  const response = await request.get("/dev/outbox", { params: { to: email } });
  const messages = (await response.json()) as Array<{ links: string[] }>;
  return messages.flatMap((m) => m.links).filter((link) => new URL(link).pathname === path).length;
}

test("registering lands on a page that says where the link went, with a resend that waits", async ({ page, request }) => {
  const email = uniqueEmail("firstrun");
  await page.goto("/register");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();

  await expect(page).toHaveURL(/\/welcome$/);
  await expect(page.getByRole("heading", { name: "Your account is ready" })).toBeFocused();
  await expect(page).toHaveTitle("Welcome · FARM Auth");
  await expect(page.getByText(`We sent a link to ${email}.`)).toBeVisible();
  await expect.poll(() => mailsTo(request, email, "/verify")).toBe(1);

  const resend = page.getByRole("button", { name: "Send the link again" });
  await resend.click();
  await expect(page.getByRole("status")).toContainText(`A new link is on its way to ${email}`);
  await expect(resend).toBeDisabled();
  await expect(page.getByText(/You can ask again in \d+ s\./)).toBeVisible();
  await expect.poll(() => mailsTo(request, email, "/verify")).toBe(2);

  // Until the address is confirmed, every page says so, quietly.
  await page.getByRole("link", { name: "Go to your tasks" }).click();
  const banner = page.getByText(`Confirm your address: we sent a link to ${email}.`);
  await expect(banner).toBeVisible();
  await page.getByRole("link", { name: "Send it again or fix the address" }).click();
  await expect(page).toHaveURL(/\/welcome$/);

  await page.goto(await mailedLink(request, email, "/verify"));
  await expect(page.getByRole("status").filter({ hasText: `${email} is verified` })).toBeVisible();
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Tasks" })).toBeVisible();
  await expect(page.getByText("Confirm your address: we sent a link to")).toHaveCount(0);
});

test("a mistyped address is mended from the first-run page", async ({ page, request }) => {
  const typo = uniqueEmail("tpyo");
  const right = uniqueEmail("typo");
  await registerOverApi(request, typo);
  await loginThroughUi(page, typo);
  await page.goto("/welcome");
  await page.getByLabel("The right address").fill(right);
  await page.getByRole("button", { name: "Use this address" }).click();
  await expect(page.getByRole("status")).toContainText(`We sent a link to ${right}. Your account moves there once you open it.`);

  await page.goto(await mailedLink(request, right, "/email-change/confirm"));
  await expect(page.getByRole("status")).toContainText(`Your address is now ${right}`);
  await page.goto("/");
  await expect(page.getByRole("banner")).toContainText(right);
  await expect(page.getByText("Confirm your address: we sent a link to")).toHaveCount(0); // opening the link proved it
});

test("a dead verification link offers a new one, signed in or not", async ({ page, browser, request }) => {
  const email = uniqueEmail("deadlink");
  await registerOverApi(request, email);

  const stranger = await (await browser.newContext()).newPage();
  await stranger.goto("/verify?token=not-a-real-token");
  await expect(stranger.getByRole("alert")).toBeVisible();
  await stranger.getByLabel("Your email", { exact: true }).fill(email);
  await stranger.getByRole("button", { name: "Send a new link" }).click();
  await expect(stranger.getByRole("status")).toContainText(`If an account with ${email} is waiting`);
  await expect.poll(() => mailsTo(request, email, "/verify")).toBe(2);

  await loginThroughUi(page, email);
  await page.goto("/verify?token=not-a-real-token");
  await page.getByRole("button", { name: `Send a new link to ${email}` }).click();
  await expect(page.getByRole("status")).toContainText(`If an account with ${email} is waiting`);
  await expect.poll(() => mailsTo(request, email, "/verify")).toBe(3);
});

test("registering an address that has an account offers to log in or reset", async ({ page, request }) => {
  const email = uniqueEmail("taken");
  await registerOverApi(request, email);
  await page.goto("/register");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill("another long passphrase here");
  await page.getByRole("button", { name: "Create account" }).click();

  const field = page.getByLabel("Email");
  await expect(field).toHaveAttribute("aria-invalid", "true");
  await expect(field).toHaveAccessibleDescription("An account with this address exists already.");
  await page.getByRole("link", { name: "reset its password" }).click();
  await expect(page.getByRole("heading", { name: "Forgot your password?" })).toBeVisible();
});
