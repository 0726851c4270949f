import { expect, test } from "@playwright/test";

import {
  NEW_PASSWORD,
  PASSWORD,
  loginThroughUi,
  mailedLink,
  registerOverApi,
  registerThroughUi,
  screenshot,
  uniqueEmail,
} from "./helpers";

/**
 * Issue 17 as the squatter and the owner meet it: someone registers an address that is not
 * theirs; until it is confirmed the account binds nothing, and once the owner of the address gets
 * in, the squatter is out. (The backend's tests/auth/flows/test_verification.py tries every path and class.)
 */

test("someone else's address: the squatter binds nothing, and the owner's reset shuts them out", async ({ page, browser, request }) => {
  const victim = uniqueEmail("victim");
  const squatter = await (await browser.newContext()).newPage();
  await registerThroughUi(squatter, victim);
  await squatter.goto("/account/security");
  const passkeys = squatter.getByRole("region", { name: "Passkeys" });
  await expect(passkeys.getByText("Confirm your address first to add a passkey")).toBeVisible();
  await expect(passkeys.getByRole("button", { name: "Add a passkey" })).toHaveCount(0);
  const twoStep = squatter.getByRole("region", { name: "Two-step sign-in" });
  await expect(twoStep.getByText("Confirm your address first to turn on two-step sign-in")).toBeVisible();
  await expect(twoStep.getByRole("button", { name: "Turn on two-step sign-in" })).toHaveCount(0);
  await screenshot(squatter, "account-unverified");

  // Weeks later the owner of the address resets the password from the mail.
  await page.goto("/forgot-password");
  await page.getByLabel("Email").fill(victim);
  await page.getByRole("button", { name: "Send the link" }).click();
  await page.goto(await mailedLink(request, victim, "/reset-password"));
  await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Set the new password" }).click();
  await expect(page.getByRole("status")).toContainText("Your password was reset");
  await loginThroughUi(page, victim, NEW_PASSWORD);

  // The squatter's open session is over.
  await squatter.reload();
  await expect(squatter.getByRole("heading", { name: "Log in" })).toBeVisible();
  const letters = (await (await request.get("/dev/outbox", { params: { to: victim } })).json()) as Array<{ subject: string; text: string }>;
  const proved = letters.find((letter) => letter.subject === "Your address is confirmed: only you can sign in now");
  expect(proved?.text).toContain("1 session (signed out)");
});

test("the verification mail opened by the owner of the address: no password, so “this wasn't me”", async ({ page, request }) => {
  const victim = uniqueEmail("declined");
  await registerOverApi(request, victim); // by someone else

  await page.goto(await mailedLink(request, victim, "/verify"));
  await expect(page.getByLabel(`Password of ${victim}`)).toBeFocused();
  await screenshot(page, "verify-asks-password");
  await page.getByRole("link", { name: "This wasn't me" }).click();
  await expect(page.getByRole("heading", { name: "An account you did not create" })).toBeVisible();
  await screenshot(page, "verify-not-me");
  await page.getByRole("button", { name: "Delete this account" }).click();
  await expect(page.getByRole("status")).toContainText("The account was deleted");

  // Whoever registered it can no longer sign in; the address is free.
  await page.goto("/login");
  await page.getByLabel("Email").fill(victim);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Wrong email or password.");
  await registerOverApi(request, victim);
});

test("the account's holder confirms the address from another browser with the password", async ({ page, request }) => {
  const email = uniqueEmail("holder");
  await registerOverApi(request, email);

  await page.goto(await mailedLink(request, email, "/verify"));
  await page.getByLabel(`Password of ${email}`).fill("not the password");
  await page.getByRole("button", { name: "Verify my address" }).click();
  await expect(page.getByRole("alert")).toHaveText("That is not the password of this account.");
  await page.getByLabel(`Password of ${email}`).fill(PASSWORD);
  await page.getByRole("button", { name: "Verify my address" }).click();
  await expect(page.getByRole("status").filter({ hasText: `${email} is verified` })).toBeVisible();
});
