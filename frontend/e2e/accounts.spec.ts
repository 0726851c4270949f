import { expect, test } from "@playwright/test";

import { NEW_PASSWORD, PASSWORD, loginThroughUi, mailedLink, registerThroughUi, screenshot, uniqueEmail } from "./helpers";

test("register, verify through the outbox link, log out and back in", async ({ page, request }) => {
  const email = uniqueEmail("newcomer");
  await page.goto("/register");
  await screenshot(page, "register");
  await registerThroughUi(page, email);
  await expect(page.getByText("No tasks yet")).toBeVisible();
  await screenshot(page, "tasks-empty");

  const link = await mailedLink(request, email, "/verify");
  expect(new URL(link).origin).toBe(new URL(page.url()).origin); // PUBLIC_URL, not a guess
  await page.goto(link);
  await expect(page.getByRole("status").filter({ hasText: `${email} is verified` })).toBeVisible();
  await screenshot(page, "verify");
  await page.getByRole("link", { name: "Go to your tasks" }).click();
  await page.getByRole("link", { name: "Account" }).click();
  await expect(page.getByText("verified", { exact: true })).toBeVisible();

  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible();
  await expect(page.getByText("You are logged out.")).toBeVisible();
  await screenshot(page, "login");
  await loginThroughUi(page, email);
});

test("a wrong password is refused with the API's reason", async ({ page, request }) => {
  const email = uniqueEmail("typo");
  await request.post("/auth/register", { data: { email, password: PASSWORD } });
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("not my password at all");
  await page.getByRole("button", { name: "Log in" }).click();

  await expect(page.getByRole("alert")).toHaveText("Wrong email or password.");
});

test("registration refusals come from the API", async ({ page }) => {
  await page.goto("/register");
  await page.getByLabel("Email").fill(uniqueEmail("weak"));
  await page.getByLabel("Password").fill("password1");
  await page.getByRole("button", { name: "Create account" }).click();

  // By the field, which has the focus so a screen reader reads it out.
  const password = page.getByLabel("Password", { exact: true });
  await expect(password).toHaveAccessibleDescription(/Password is too easy to guess/);
  await expect(password).toBeFocused();
});

test("forgot password, follow the reset link, log in with the new password", async ({ page, request }) => {
  const email = uniqueEmail("forgetful");
  await request.post("/auth/register", { data: { email, password: PASSWORD } });

  await page.goto("/login");
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Send the link" }).click();
  await expect(page.getByRole("status")).toContainText(`If an account exists for ${email}`);
  await screenshot(page, "forgot-password");

  await page.goto(await mailedLink(request, email, "/reset-password"));
  await screenshot(page, "reset-password");
  await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Set the new password" }).click();
  await expect(page.getByRole("status")).toContainText("Your password was reset");
  await page.getByRole("link", { name: "Log in with your new password" }).click();

  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Wrong email or password.");
  await page.getByLabel("Password").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("heading", { name: "Tasks" })).toBeVisible();
});

test("a used reset link says so", async ({ page, request }) => {
  const email = uniqueEmail("twice");
  await request.post("/auth/register", { data: { email, password: PASSWORD } });
  await request.post("/auth/forgot-password", { data: { email } });
  const link = await mailedLink(request, email, "/reset-password");
  await request.post("/auth/reset-password", {
    data: { token: new URL(link).searchParams.get("token"), password: NEW_PASSWORD },
  });

  await page.goto(link);

  // Checked before any form is shown: nothing to fill in for nothing, and a way to a new link.
  await expect(page.getByRole("alert")).toContainText("This link no longer works");
  await expect(page.getByLabel("New password", { exact: true })).toHaveCount(0);
  await page.getByRole("link", { name: "Ask for a new link" }).click();
  await expect(page.getByRole("heading", { name: "Forgot your password?" })).toBeVisible();
});

test("account: change password and email", async ({ page, request }) => {
  const email = uniqueEmail("settings");
  await registerThroughUi(page, email);
  await page.getByRole("link", { name: "Account" }).click();
  await screenshot(page, "account");
  await page.getByRole("navigation", { name: "Account" }).getByRole("link", { name: "Security" }).click();
  await screenshot(page, "account-security");

  const password = page.getByRole("form", { name: "Change password" });
  await password.getByLabel("Current password").fill("not the current one");
  await password.getByLabel("New password").fill(NEW_PASSWORD);
  await password.getByRole("button", { name: "Change password" }).click();
  await expect(password.getByRole("alert")).toHaveText("The current password is wrong.");
  await password.getByLabel("Current password").fill(PASSWORD);
  await password.getByRole("button", { name: "Change password" }).click();
  await expect(password.getByRole("status")).toContainText("Password changed");

  // A new address is the account's once its mailed link is opened (account-life.spec.ts has more).
  await page.getByRole("navigation", { name: "Account" }).getByRole("link", { name: "Profile" }).click();
  const newEmail = uniqueEmail("moved");
  const emailSection = page.getByRole("region", { name: "Change email" });
  await emailSection.getByLabel("New email").fill(newEmail);
  await emailSection.getByRole("button", { name: "Change email" }).click();
  await expect(emailSection.getByRole("status")).toContainText(`We sent a confirmation link to ${newEmail}`);
  await page.goto(await mailedLink(request, newEmail, "/email-change/confirm"));
  await expect(page.getByRole("status")).toContainText(`Your address is now ${newEmail}`);
  await page.getByRole("link", { name: "Go to your account" }).click();
  await expect(page.getByRole("banner").getByText(newEmail)).toBeVisible();

  await page.getByRole("button", { name: "Log out" }).click();
  await loginThroughUi(page, newEmail, NEW_PASSWORD);
});
