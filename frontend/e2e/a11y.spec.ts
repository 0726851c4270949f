import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";
import type { Page } from "@playwright/test";

import { SUPERUSER } from "../playwright.config";
import { totpCode } from "./authenticators";
import { PASSWORD, loginThroughUi, registerOverApi, uniqueEmail, verifyInThisBrowser } from "./helpers";

/**
 * Every screen, checked by axe-core against WCAG 2.2 A and AA, in the light and the dark
 * scheme: signed out, signed in, each account page, the admin screen, error pages and dialogs
 * open. Any violation fails, with what and where. (axe cannot judge the contrast of a
 * control's border against its background: src/theme.test.ts checks the design tokens.)
 */
const WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"];
// Rules axe keeps off by default that judge WCAG A/AA criteria: a control's visible words in its
// name (2.5.3), and target sizes (2.5.8).
const EXPERIMENTAL = ["label-content-name-mismatch", "target-size"];
const SCHEMES = ["light", "dark"] as const;

async function expectAccessible(page: Page, screen: string): Promise<void> {
  for (const colorScheme of SCHEMES) {
    await page.emulateMedia({ colorScheme });
    const { violations } = await new AxeBuilder({ page })
      .withTags(WCAG)
      .options({ rules: Object.fromEntries(EXPERIMENTAL.map((id) => [id, { enabled: true }])) })
      .analyze();
    const found = violations.map(
      (v) => `${v.id} (${v.impact}): ${v.help}\n${v.nodes.map((n) => `    ${n.target.join(" ")}: ${n.failureSummary}`).join("\n")}`,
    );
    expect(found, `${screen} in the ${colorScheme} scheme`).toEqual([]);
  }
  await page.emulateMedia({ colorScheme: null });
}

/** Wait until the screen has settled: no spinner, its heading shown. */
async function open(page: Page, path: string, heading: string | RegExp): Promise<void> {
  await page.goto(path);
  await expect(page.getByRole("heading", { name: heading, level: undefined }).first()).toBeVisible();
  await expect(page.locator(".spinner")).toHaveCount(0);
}

test("every signed-out screen", async ({ page }) => {
  const screens: Array<[string, string | RegExp]> = [
    ["/login", "Log in"],
    ["/register", "Create an account"],
    ["/forgot-password", /forgot/i],
    ["/reset-password?token=not-a-token", /password/i],
    ["/verify?token=not-a-token", /verif|confirm/i],
    ["/verify/not-me?token=not-a-token", /.+/],
    ["/email-change/confirm?token=not-a-token", /.+/],
    ["/email-change/cancel?token=not-a-token", /.+/],
    ["/sign-in/link?token=not-a-token", /.+/],
    ["/sign-in/error?error=access_denied", /.+/],
    ["/sign-in/mfa", "Two-step sign-in"],
    ["/no-such-page", /not found/i],
  ];
  for (const [path, heading] of screens) {
    await open(page, path, heading);
    await expectAccessible(page, path);
  }
});

test("every signed-in screen, with its dialogs", async ({ page, request }) => {
  const email = uniqueEmail("a11y");
  await registerOverApi(request, email);
  await loginThroughUi(page, email);

  // A new account: the first-run page, the tasks empty and then with tasks (a toast showing, a
  // task being renamed), the account before its address is confirmed.
  await open(page, "/welcome", "Your account is ready");
  await expectAccessible(page, "welcome");
  await open(page, "/", "Tasks");
  await expectAccessible(page, "tasks, empty");
  for (const name of ["Buy milk", "Call the bank"]) {
    await page.getByLabel("New task").fill(name);
    await page.getByLabel("New task").press("Enter");
    await expect(page.getByRole("list", { name: "Tasks" }).getByText(name)).toBeVisible();
  }
  await expect(page.getByRole("region", { name: "Notifications" })).toContainText("Added");
  await expectAccessible(page, "tasks, with a toast");
  await page.getByRole("button", { name: "Rename “Buy milk”" }).click();
  await expectAccessible(page, "tasks, renaming one");
  await page.keyboard.press("Escape");
  await open(page, "/account/security", "Security");
  await expectAccessible(page, "security, address not confirmed");

  await verifyInThisBrowser(page, request, email);
  for (const [path, heading] of [
    ["/account", "Profile"],
    ["/account/security", "Security"],
    ["/account/sessions", "Sessions"],
    ["/account/activity", "Activity"],
    ["/account/danger", "Danger zone"],
    ["/admin", "Not allowed"],
    ["/no-such-page", "Page not found"],
  ] as const) {
    await open(page, path, heading);
    await expectAccessible(page, path);
  }

  // The authenticator app's setup, its recovery codes, the factors it leaves on the account.
  await open(page, "/account/security", "Security");
  await page.getByRole("button", { name: "Turn on two-step sign-in" }).click();
  const setup = page.getByRole("group", { name: "Set up your authenticator app" });
  await expect(setup.getByRole("img", { name: /QR/i })).toBeVisible();
  await expectAccessible(page, "authenticator app setup");
  const secret = (await setup.locator("code.secret").innerText()).replace(/\s/g, "");
  await setup.getByLabel("Authenticator code").fill(totpCode(secret));
  await setup.getByRole("button", { name: "Turn on" }).click();
  await expect(page.getByRole("list", { name: "Recovery codes" }).getByRole("listitem")).toHaveCount(10);
  await expectAccessible(page, "recovery codes shown");
  await page.getByRole("button", { name: "I have saved them" }).click();
  await expectAccessible(page, "security, two-step sign-in on");

  // The second step of a sign-in: the app's code, then a recovery code.
  await page.getByRole("banner").getByRole("button", { name: "Log out" }).click();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("heading", { name: "Two-step sign-in" })).toBeVisible();
  await expectAccessible(page, "second step, authenticator code");
  await page.getByRole("button", { name: "Use a recovery code" }).click();
  await expect(page.getByLabel("Recovery code")).toBeVisible();
  await expectAccessible(page, "second step, recovery code");
});

test("the confirm dialog and the admin screen", async ({ page, browser, request }) => {
  const email = uniqueEmail("a11y.dialog");
  await registerOverApi(request, email);
  await loginThroughUi(page, email);
  await verifyInThisBrowser(page, request, email);
  // The server asks to confirm it's you for a sign-in older than a few minutes: answer so once.
  await page.route("**/auth/mfa/totp/setup", async (route) => {
    await route.fulfill({
      status: 403,
      json: { detail: { code: "CONFIRMATION_REQUIRED", reason: "Confirm it's you first.", methods: ["password"] } },
    });
  });
  await open(page, "/account/security", "Security");
  await page.getByRole("button", { name: "Turn on two-step sign-in" }).click();
  await expect(page.getByRole("dialog", { name: "Confirm it's you" })).toBeVisible();
  await expectAccessible(page, "confirm dialog");

  const admin = await (await browser.newContext()).newPage();
  await loginThroughUi(admin, SUPERUSER.email, SUPERUSER.password);
  await open(admin, "/admin", "Users");
  await expectAccessible(admin, "admin");
  await admin.getByRole("list", { name: "Users" }).getByRole("button", { name: "Security activity" }).first().click();
  await expectAccessible(admin, "admin, a user's activity open");
});
