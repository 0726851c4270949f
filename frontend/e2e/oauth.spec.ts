import { expect, test } from "@playwright/test";
import type { Page } from "@playwright/test";

import { IDP_LABEL, IDP_PEOPLE } from "../playwright.config";
import {
  PASSWORD,
  loginThroughUi,
  registerOverApi,
  registerThroughUi,
  screenshot,
  uniqueEmail,
  verifyInThisBrowser,
  verifyOverApi,
} from "./helpers";

// Each person at the provider has one job (playwright.config.ts): one backend database serves the
// whole run, so someone who signed up here once is no newcomer for another test. Each test has a
// fresh browser context, hence no single sign-on session left at the provider by another test.

type Person = (typeof IDP_PEOPLE)[keyof typeof IDP_PEOPLE];

const CONTINUE = `Continue with ${IDP_LABEL}`;

/** From the login or register page, off to the provider (a failing check, not a 90 s wait, if there is no button). */
async function continueWithProvider(page: Page): Promise<void> {
  const button = page.getByRole("link", { name: CONTINUE });
  await expect(button).toBeVisible();
  await button.click();
}

/** On the provider's own login page: sign in as `person`, then answer its consent page. */
async function signInAtProvider(page: Page, person: Person, answer: "Allow" | "Deny"): Promise<void> {
  await expect(page.getByRole("heading", { name: /^Sign in to continue to/ })).toBeVisible();
  await page.getByLabel("Email").fill(person.email);
  await page.getByLabel("Password").fill(person.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText(`Signed in as ${person.email}`)).toBeVisible();
  await page.getByRole("button", { name: answer }).click();
}

test("a newcomer signs up by continuing with the provider", async ({ page }) => {
  const carol = IDP_PEOPLE.newcomer;
  await page.goto("/login");
  await screenshot(page, "login-with-providers");
  await continueWithProvider(page);
  await signInAtProvider(page, carol, "Allow");

  // Back from the provider with the session's cookies: the app restores it at start-up.
  await expect(page.getByRole("heading", { name: "Tasks" })).toBeVisible();
  expect(new URL(page.url()).pathname).toBe("/");
  await expect(page.getByRole("banner")).toContainText(carol.email);
  const newTask = page.getByLabel("New task");
  await newTask.fill("Try single sign-on");
  await newTask.press("Enter");
  await expect(page.getByRole("list", { name: "Tasks" }).getByText("Try single sign-on")).toBeVisible();

  // The account has no password: the provider is its only way in, so it cannot be unlinked.
  await page.getByRole("banner").getByRole("link", { name: "Account" }).click();
  await page.getByRole("navigation", { name: "Account" }).getByRole("link", { name: "Security" }).click();
  const methods = page.getByRole("region", { name: "Sign-in methods" });
  await expect(methods.getByText("You have no password yet: use Forgot password to set one.")).toBeVisible();
  const linked = methods.getByRole("list", { name: "Linked providers" });
  await expect(linked).toContainText(IDP_LABEL);
  await expect(linked).toContainText(carol.email);
  await methods.getByRole("button", { name: `Unlink ${IDP_LABEL}` }).click();
  await expect(methods.getByRole("alert")).toContainText(`${IDP_LABEL} is your only way to sign in`);
  await expect(linked).toContainText(IDP_LABEL);
  await screenshot(page, "account-sign-in-methods");
});

test("refusing consent at the provider says so, and leads back to the login page", async ({ page }) => {
  await page.goto("/register");
  await continueWithProvider(page);
  await signInAtProvider(page, IDP_PEOPLE.refuser, "Deny");

  await expect(page.getByRole("heading", { name: "Signing in did not work" })).toBeVisible();
  expect(new URL(page.url()).pathname).toBe("/sign-in/error");
  await expect(page.getByRole("alert")).toHaveText(`You cancelled signing in with ${IDP_LABEL}.`);
  await screenshot(page, "sign-in-error");
  await page.getByRole("link", { name: "Back to log in" }).click();
  await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible();
});

test("the provider joins an account that already uses its address only from its account page", async ({ page, request }) => {
  const alice = IDP_PEOPLE.existing;
  // A local account with a password, its address confirmed here.
  await registerOverApi(request, alice.email);
  await verifyOverApi(request, alice.email);

  await page.goto("/login");
  await continueWithProvider(page);
  await signInAtProvider(page, alice, "Allow");
  await expect(page.getByRole("alert")).toHaveText(
    `An account with this email address already exists. Log in to it the way you did before, then link ${IDP_LABEL} from your account page.`,
  );
  // Not signed in to it.
  await page.goto("/account");
  await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible();

  // Doing as told: log in with the password and link the provider from the account page. The
  // provider still knows this browser (single sign-on) and the consent given: straight back.
  await loginThroughUi(page, alice.email, PASSWORD);
  await page.getByRole("banner").getByRole("link", { name: "Account" }).click();
  await page.getByRole("navigation", { name: "Account" }).getByRole("link", { name: "Security" }).click();
  const methods = page.getByRole("region", { name: "Sign-in methods" });
  await methods.getByRole("button", { name: `Link ${IDP_LABEL}`, exact: true }).click();
  await expect(methods.getByRole("status").filter({ hasText: "linked" })).toHaveText(
    `${IDP_LABEL} is linked: you can now sign in with it.`,
  );
  // From now on the provider signs her in to that account.
  await page.getByRole("button", { name: "Log out" }).click();
  await continueWithProvider(page);
  await expect(page.getByRole("heading", { name: "Tasks" })).toBeVisible();
  await expect(page.getByRole("banner")).toContainText(alice.email);
});

test("a provider that vouches for the address takes it back from whoever registered it", async ({ page, browser, request }) => {
  const erin = IDP_PEOPLE.claimer;
  // Someone else registers Erin's address and stays signed in, never confirming it.
  const squatter = await (await browser.newContext()).newPage();
  await registerThroughUi(squatter, erin.email);

  await page.goto("/login");
  await continueWithProvider(page);
  await signInAtProvider(page, erin, "Allow");
  await expect(page.getByRole("heading", { name: "Tasks" })).toBeVisible();
  await expect(page.getByRole("banner")).toContainText(erin.email);

  // The squatter's session is over, and the password they chose opens nothing.
  await squatter.reload();
  await expect(squatter.getByRole("heading", { name: "Log in" })).toBeVisible();
  await squatter.getByLabel("Email").fill(erin.email);
  await squatter.getByLabel("Password").fill(PASSWORD);
  await squatter.getByRole("button", { name: "Log in" }).click();
  await expect(squatter.getByRole("alert")).toHaveText("Wrong email or password.");
  // Erin is told what went, and how to set a password.
  const letters = (await (await request.get("/dev/outbox", { params: { to: erin.email } })).json()) as Array<{ subject: string }>;
  expect(letters.map((letter) => letter.subject)).toContain("Your address is confirmed: only you can sign in now");
});

test("link a provider from the account page, then unlink it", async ({ page, request }) => {
  const bob = IDP_PEOPLE.linker;
  const email = uniqueEmail("linker");
  await registerThroughUi(page, email);
  const methods = page.getByRole("region", { name: "Sign-in methods" });
  // Not before the address is confirmed: the page says so instead of offering the button.
  await page.getByRole("banner").getByRole("link", { name: "Account" }).click();
  await page.getByRole("navigation", { name: "Account" }).getByRole("link", { name: "Security" }).click();
  await expect(methods.getByText(`Confirm your address first to link ${IDP_LABEL}`)).toBeVisible();
  await expect(methods.getByRole("button", { name: `Link ${IDP_LABEL}`, exact: true })).toHaveCount(0);
  await verifyInThisBrowser(page, request, email);
  await page.goto("/account/security");
  await expect(methods.getByText("No other provider is linked to this account yet.")).toBeVisible();

  await methods.getByRole("button", { name: `Link ${IDP_LABEL}`, exact: true }).click();
  await signInAtProvider(page, bob, "Allow");

  await expect(methods.getByRole("status").filter({ hasText: "linked" })).toHaveText(
    `${IDP_LABEL} is linked: you can now sign in with it.`,
  );
  await expect(page).toHaveURL(/\/account\/security$/); // ?linked=... read and cleaned up
  await expect(page.getByRole("banner")).toContainText(email); // still the same account
  const linked = methods.getByRole("list", { name: "Linked providers" });
  await expect(linked).toContainText(IDP_LABEL);
  await expect(linked).toContainText(bob.email);
  await expect(methods.getByRole("button", { name: `Link ${IDP_LABEL}`, exact: true })).toHaveCount(0);
  await expect(methods.getByText(/no password yet/)).toHaveCount(0);

  await methods.getByRole("button", { name: `Unlink ${IDP_LABEL}` }).click();
  await expect(methods.getByRole("status").filter({ hasText: "unlinked" })).toHaveText(
    `${IDP_LABEL} was unlinked: you can no longer sign in with it.`,
  );
  await expect(linked).toHaveCount(0);
  await expect(methods.getByText(bob.email)).toHaveCount(0);
  await expect(methods.getByRole("button", { name: `Link ${IDP_LABEL}`, exact: true })).toBeVisible();
});
