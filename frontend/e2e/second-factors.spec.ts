import { expect, test } from "@playwright/test";
import type { Page } from "@playwright/test";

import { addVirtualAuthenticator, heldCredentials, totpCode } from "./authenticators";
import { PASSWORD, registerThroughUi, screenshot, uniqueEmail, verifyInThisBrowser } from "./helpers";

/**
 * Issue 12 as a person meets it: an authenticator app with recovery codes, and passkeys in
 * Chromium's virtual authenticator (resident keys, user verification). A password alone no longer
 * opens an account that has a second factor.
 */

async function logOut(page: Page): Promise<void> {
  await page.getByRole("banner").getByRole("button", { name: "Log out" }).click();
  await expect(page.getByRole("button", { name: "Log in" })).toBeVisible();
}

/** Email and password on the login page: the account's second step should follow. */
async function passwordStep(page: Page, email: string): Promise<void> {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("heading", { name: "Two-step sign-in" })).toBeVisible();
  // No session yet: the password alone opened nothing.
  await expect(page.getByRole("banner").getByRole("button", { name: "Log out" })).toHaveCount(0);
}

async function signedIn(page: Page): Promise<void> {
  await expect(page.getByRole("banner").getByRole("button", { name: "Log out" })).toBeVisible();
}

/** The recovery codes shown once, after "I have saved them" is clicked. */
async function saveRecoveryCodes(page: Page): Promise<string[]> {
  const items = page.getByRole("list", { name: "Recovery codes" }).getByRole("listitem");
  await expect(items).toHaveCount(10);
  const codes = await items.allInnerTexts();
  await page.getByRole("button", { name: "I have saved them" }).click();
  return codes.map((code) => code.trim());
}

test("an authenticator app, then a lost phone and a recovery code", async ({ page, request }) => {
  const email = uniqueEmail("totp");
  await registerThroughUi(page, email);
  await verifyInThisBrowser(page, request, email);
  await page.goto("/account/security");
  await page.getByRole("button", { name: "Turn on two-step sign-in" }).click();
  const setup = page.getByRole("group", { name: "Set up your authenticator app" });
  await expect(setup.getByRole("img", { name: "QR code for your authenticator app" })).toBeVisible();
  const secret = (await setup.locator("code.secret").innerText()).replace(/\s/g, "");
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  await setup.getByLabel("Authenticator code").fill(totpCode(secret));
  await setup.getByRole("button", { name: "Turn on" }).click();
  const codes = await saveRecoveryCodes(page);
  await expect(page.getByText("10 unused recovery codes left.", { exact: false })).toBeVisible();

  // The code of the current step was spent turning it on: the app's next one signs in.
  await logOut(page);
  await passwordStep(page, email);
  await screenshot(page, "mfa-step");
  await page.getByLabel("Authenticator code").fill(totpCode(secret, 1));
  await page.getByRole("button", { name: "Verify" }).click();
  await signedIn(page);

  // The phone is lost: a recovery code gets in, once.
  await logOut(page);
  await passwordStep(page, email);
  await page.getByRole("button", { name: "Use a recovery code" }).click();
  await page.getByLabel("Recovery code").fill(codes[0]!);
  await page.getByRole("button", { name: "Verify" }).click();
  await signedIn(page);
  await page.goto("/account/security");
  await expect(page.getByText("9 unused recovery codes left.", { exact: false })).toBeVisible();

  await logOut(page);
  await passwordStep(page, email);
  await page.getByRole("button", { name: "Use a recovery code" }).click();
  await page.getByLabel("Recovery code").fill(codes[0]!);
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByRole("alert")).toBeVisible();
  await expect(page.getByRole("banner").getByRole("button", { name: "Log out" })).toHaveCount(0);
});

test("a passkey signs in alone, serves as the second step, and stops once removed", async ({ page, request }) => {
  const authenticator = await addVirtualAuthenticator(page);
  const email = uniqueEmail("passkey");
  await registerThroughUi(page, email);
  await verifyInThisBrowser(page, request, email);
  await page.goto("/account/security");
  await page.getByLabel("Name for the new passkey").fill("Test laptop");
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await saveRecoveryCodes(page); // the account's first second factor
  const passkeys = page.getByRole("list", { name: "Your passkeys" });
  await expect(passkeys.getByText("Test laptop")).toBeVisible();
  expect(await heldCredentials(authenticator)).toBe(1);

  // Signing in with the passkey and nothing else: no email, no password.
  await logOut(page);
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await signedIn(page);

  // After a password, the passkey is the second step.
  await logOut(page);
  await passwordStep(page, email);
  await page.getByRole("button", { name: "Use a passkey" }).click();
  await signedIn(page);

  // Removed from the account, it no longer opens it, though the authenticator still holds it.
  await page.goto("/account/security");
  page.once("dialog", (dialog) => void dialog.accept());
  await page.getByRole("button", { name: "Remove Test laptop" }).click();
  await expect(passkeys.getByText("Test laptop")).toHaveCount(0);
  await logOut(page);
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await expect(page.getByRole("alert")).toContainText("passkey");
  await expect(page.getByRole("banner").getByRole("button", { name: "Log out" })).toHaveCount(0);
  expect(await heldCredentials(authenticator)).toBe(1);

  // With no second factor left, the password alone signs in again.
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await signedIn(page);
});

test("the second step and the account's factors at phone width", async ({ page, request }) => {
  await page.setViewportSize({ width: 360, height: 740 });
  await addVirtualAuthenticator(page);
  const email = uniqueEmail("phone");
  await registerThroughUi(page, email);
  await verifyInThisBrowser(page, request, email);
  await page.goto("/account/security");
  await page.getByLabel("Name for the new passkey").fill("Phone");
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await saveRecoveryCodes(page);
  await page.getByRole("button", { name: "Turn on two-step sign-in" }).or(page.getByRole("button", { name: "Add an authenticator app" })).click();
  await expect(page.getByRole("img", { name: "QR code for your authenticator app" })).toBeVisible();
  await screenshot(page, "account-factors-phone");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await logOut(page);
  await passwordStep(page, email);
  await expect(page.getByRole("button", { name: "Use a passkey" })).toBeVisible();
  await screenshot(page, "mfa-step-phone");
  expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
});

test("the login page offers the passkey in the email field's autofill, and signs in with it", async ({ page, request }) => {
  // Chrome's virtual authenticator answers the page's conditional request as soon as it is made,
  // as a person picking the passkey from the email field's suggestions would.
  await addVirtualAuthenticator(page, { autofill: true });
  const email = uniqueEmail("autofill");
  await registerThroughUi(page, email);
  await verifyInThisBrowser(page, request, email);
  await page.goto("/account/security");
  await page.getByLabel("Name for the new passkey").fill("Autofill laptop");
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await saveRecoveryCodes(page);

  // Logging out lands on the login page, whose email field asks for a passkey at once; the
  // virtual authenticator picks it, and the sign-in goes through the passkey route.
  const signedIn = page.waitForResponse(
    (response) => response.url().endsWith("/auth/passkeys/sign-in") && response.status() === 200,
  );
  await page.getByRole("banner").getByRole("button", { name: "Log out" }).click();
  await signedIn;
  // No button pressed, nothing typed: the passkey chosen in the field signs in.
  await expect(page.getByRole("banner").getByRole("button", { name: "Log out" })).toBeVisible();
  await expect(page.getByRole("banner")).toContainText(email);
  await expect(page.getByLabel("Password", { exact: true })).toHaveCount(0);
});
