import { expect, test } from "@playwright/test";

import { PASSWORD, registerOverApi, uniqueEmail } from "./helpers";

test("Swagger UI: authorize with the login route and call a protected route", async ({ page, request }) => {
  const email = uniqueEmail("swagger");
  await registerOverApi(request, email);

  await page.goto("/docs");
  await page.getByRole("button", { name: "Authorize" }).first().click();
  const dialog = page.locator(".modal-ux");
  await dialog.locator("input#oauth_username").first().fill(email);
  await dialog.locator("input#oauth_password").first().fill(PASSWORD);
  await dialog.getByRole("button", { name: "Apply given OAuth2 credentials" }).click();
  await expect(dialog.getByText("Authorized").first()).toBeVisible();
  await dialog.getByRole("button", { name: "Close" }).first().click();

  await page.getByRole("button", { name: "GET /users/me Users:Current User" }).click();
  const operation = page.locator("#operations-users-users_current_user_users_me_get");
  await operation.getByRole("button", { name: "Try it out" }).click();
  await operation.getByRole("button", { name: "Execute" }).click();

  await expect(operation.locator(".live-responses-table tbody .response-col_status").first()).toHaveText("200");
  await expect(operation.locator(".live-responses-table")).toContainText(email);
});
