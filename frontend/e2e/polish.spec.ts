import { expect, test } from "@playwright/test";

import { NEW_PASSWORD, PASSWORD, loginThroughUi, registerOverApi, uniqueEmail, verifyInThisBrowser } from "./helpers";

/**
 * What people expect of account screens: pages they can find, named in the tab; the focus where
 * the keyboard needs it; a password they can check; a theme they choose; plain refusals.
 */

test("the account area is pages with their own addresses and titles", async ({ page, request }) => {
  const email = uniqueEmail("pages");
  await registerOverApi(request, email);
  await loginThroughUi(page, email);
  await expect(page).toHaveTitle("Tasks · FARM Auth");
  await page.getByRole("banner").getByRole("link", { name: "Account" }).click();
  const pages: Array<[string, string, string]> = [
    ["Profile", "/account", "Profile"],
    ["Security", "/account/security", "Security"],
    ["Sessions", "/account/sessions", "Sessions"],
    ["Activity", "/account/activity", "Activity"],
    ["Danger zone", "/account/danger", "Danger zone"],
  ];
  const nav = page.getByRole("navigation", { name: "Account" });
  for (const [link, path, heading] of pages) {
    await nav.getByRole("link", { name: link }).click();
    await expect(page).toHaveURL(new RegExp(`${path}$`));
    await expect(page.getByRole("heading", { level: 1, name: heading })).toBeFocused();
    await expect(page).toHaveTitle(`${heading} · FARM Auth`);
    await expect(nav.getByRole("link", { name: link })).toHaveAttribute("aria-current", "page");
  }
  // The old addresses still lead there.
  await page.goto("/sessions");
  await expect(page).toHaveURL(/\/account\/sessions$/);
  await page.goto("/activity");
  await expect(page).toHaveURL(/\/account\/activity$/);
});

test("after logging in, the focus is on the new screen's heading", async ({ page, request }) => {
  const email = uniqueEmail("focus");
  await registerOverApi(request, email);
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByLabel("Password", { exact: true }).press("Enter");
  await expect(page.getByRole("heading", { name: "Tasks" })).toBeFocused();
});

test("the confirm dialog gives the focus back to the button that opened it", async ({ page, request }) => {
  const email = uniqueEmail("dialog");
  await registerOverApi(request, email);
  await loginThroughUi(page, email);
  await verifyInThisBrowser(page, request, email);
  // A sign-in older than a few minutes: the server asks to confirm it's you (answered here once).
  let asked = false;
  await page.route("**/auth/mfa/totp/setup", async (route) => {
    if (asked) return route.continue();
    asked = true;
    await route.fulfill({
      status: 403,
      json: { detail: { code: "CONFIRMATION_REQUIRED", reason: "Confirm it's you first.", methods: ["password"] } },
    });
  });
  await page.goto("/account/security");
  const start = page.getByRole("button", { name: "Turn on two-step sign-in" });
  await start.click();
  const dialog = page.getByRole("dialog", { name: "Confirm it's you" });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel("Your password")).toBeFocused();
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toHaveCount(0);
  await expect(start).toBeFocused();

  asked = false;
  await start.click();
  await page.keyboard.press("Escape");
  await expect(dialog).toHaveCount(0);
  await expect(start).toBeFocused();
});

test("every password field can show what was typed", async ({ page }) => {
  await page.goto("/login");
  const password = page.getByLabel("Password", { exact: true });
  await password.fill("what I typed");
  await expect(password).toHaveAttribute("type", "password");
  const show = page.getByRole("button", { name: "Show password" });
  await expect(show).toHaveAttribute("aria-pressed", "false");
  await show.click();
  await expect(password).toHaveAttribute("type", "text");
  await expect(show).toHaveAttribute("aria-pressed", "true");
  await expect(password).toHaveValue("what I typed");
  await show.click();
  await expect(password).toHaveAttribute("type", "password");

  for (const path of ["/register"]) {
    await page.goto(path);
    await expect(page.getByRole("button", { name: "Show password" }).first()).toBeVisible();
  }
});

test("the login page puts the password first, and offers this site's passkeys in the email field", async ({ page }) => {
  await page.goto("/login");
  await expect(page.getByLabel("Email")).toHaveAttribute("autocomplete", "username webauthn");
  const login = page.getByRole("button", { name: "Log in", exact: true });
  const passkey = page.getByRole("button", { name: "Sign in with a passkey" });
  const [loginBox, passkeyBox] = [await login.boundingBox(), await passkey.boundingBox()];
  expect(loginBox!.y).toBeLessThan(passkeyBox!.y); // first
  expect(loginBox!.width).toBeGreaterThanOrEqual(passkeyBox!.width - 1); // as wide as the others
  const styles = await login.evaluate((element) => getComputedStyle(element).backgroundColor);
  const others = await passkey.evaluate((element) => getComputedStyle(element).backgroundColor);
  expect(styles).not.toBe(others); // the one primary button
});

test("the theme can be chosen, and is kept", async ({ page }) => {
  await page.emulateMedia({ colorScheme: "light" });
  await page.goto("/login");
  const html = page.locator("html");
  await expect(html).toHaveAttribute("data-theme", "light");
  await page.getByLabel("Theme").selectOption("dark");
  await expect(html).toHaveAttribute("data-theme", "dark");
  await page.reload();
  await expect(html).toHaveAttribute("data-theme", "dark"); // before any script of the app: no flash
  await expect(page.getByLabel("Theme")).toHaveValue("dark");
  await page.getByLabel("Theme").selectOption("system");
  await page.emulateMedia({ colorScheme: "dark" });
  await expect(html).toHaveAttribute("data-theme", "dark");
  await page.emulateMedia({ colorScheme: "light" });
  await expect(html).toHaveAttribute("data-theme", "light");
});

test("someone who is not an administrator gets a plain no at /admin, and a 404 keeps the top bar", async ({ page, request }) => {
  const email = uniqueEmail("notadmin");
  await registerOverApi(request, email);
  await loginThroughUi(page, email);
  await page.goto("/admin");
  await expect(page.getByRole("heading", { name: "Not allowed" })).toBeVisible();
  await expect(page.getByRole("list", { name: "Users" })).toHaveCount(0);
  await expect(page.getByRole("alert")).toHaveCount(0);
  await expect(page).toHaveTitle("Not allowed · FARM Auth");

  await page.goto("/no-such-page");
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await expect(page.getByRole("banner").getByRole("button", { name: "Log out" })).toBeVisible();
  await expect(page).toHaveTitle("Page not found · FARM Auth");
});

test("a message and the typed values do not outlive the page they belong to", async ({ page, request }) => {
  const email = uniqueEmail("linger");
  await registerOverApi(request, email);
  await loginThroughUi(page, email);
  await page.goto("/account/security");
  const form = page.getByRole("form", { name: "Change password" });
  await form.getByLabel("Current password").fill(PASSWORD);
  await form.getByLabel("New password").fill(NEW_PASSWORD);
  await form.getByRole("button", { name: "Change password" }).click();
  await expect(form.getByRole("status")).toContainText("Password changed");
  await form.getByLabel("Current password").fill("x"); // typing again: the old message goes
  await expect(form.getByRole("status")).toHaveCount(0);

  const nav = page.getByRole("navigation", { name: "Account" });
  await nav.getByRole("link", { name: "Profile" }).click();
  await nav.getByRole("link", { name: "Security" }).click();
  await expect(form.getByRole("status")).toHaveCount(0);
  await expect(form.getByLabel("Current password")).toHaveValue("");
});

test("the new-password meter says what the server will say, as the password is typed", async ({ page }) => {
  const email = uniqueEmail("meter");
  await page.goto("/register");
  await page.getByLabel("Email").fill(email);
  const password = page.getByLabel("Password", { exact: true });
  // The judgement is the server's: the same sentence register refuses this password with.
  await password.pressSequentially("password1", { delay: 20 });
  const meter = page.locator(".strength");
  await expect(meter).toContainText("Too easy to guess");
  await expect(meter).toContainText(/common password|easy to guess/i);
  await expect(page.getByRole("meter", { name: "Password strength" })).toBeVisible();
  // One made of the address typed above is refused too, as register would.
  await password.fill(`${email}${email}`);
  await expect(meter).toContainText("Too easy to guess");
  await password.fill(NEW_PASSWORD);
  await expect(meter).toContainText("Strong enough");
  await expect(password).toHaveAttribute("aria-describedby", /-status/);
  await password.fill("");
  await expect(page.getByRole("meter")).toHaveCount(0);
  // A refused password still gets the server's answer at submit, by the field.
  await password.fill("password1");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.locator(".field-error")).toContainText(/easy to guess|common/i);
});

test("nothing is wider than a 320-pixel phone", async ({ page, request }) => {
  await page.setViewportSize({ width: 320, height: 640 });
  const wide = () => page.evaluate(() => document.documentElement.scrollWidth);
  for (const path of ["/login", "/register", "/forgot-password"]) {
    await page.goto(path);
    await expect(page.getByRole("heading", { level: 1 }).first()).toBeVisible();
    expect(await wide(), path).toBeLessThanOrEqual(320);
  }
  const email = uniqueEmail("narrow");
  await registerOverApi(request, email);
  await loginThroughUi(page, email);
  for (const path of ["/", "/account", "/account/security", "/account/sessions", "/account/activity", "/account/danger"]) {
    await page.goto(path);
    await expect(page.getByRole("heading", { level: 1 }).first()).toBeVisible();
    expect(await wide(), path).toBeLessThanOrEqual(320);
  }
});
