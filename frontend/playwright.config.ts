import { existsSync, mkdtempSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { defineConfig } from "@playwright/test";

/**
 * End-to-end tests: Debian's Chromium (headless) against the real backend (`python -m
 * backend.serve`) on the embedded database, with the built frontend. Each run starts from an
 * empty data folder. Access tokens live 15 s here, so every test also exercises silent refresh.
 * A local OpenID provider (tools/oidc-provider) runs beside it for "Continue with Corp ID".
 */
const port = Number(process.env.E2E_PORT ?? 8765);
// localhost, not 127.0.0.1: browsers refuse IP addresses as passkey domains.
export const baseURL = `http://localhost:${port}`;
export const ACCESS_TOKEN_SECONDS = 15;
export const SUPERUSER = { email: "e2e.admin@example.com", password: "e2e superuser passphrase" };
process.env.E2E_DATA_DIR ??= mkdtempSync(join(tmpdir(), "farm-e2e-"));

/**
 * A local OpenID Connect provider (tools/oidc-provider), offered by the app as "Corp ID". Its
 * people are these, written to the run's data folder, each with one job in e2e/oauth.spec.ts
 * (one backend database per run: a person who signed up once is no newcomer afterwards).
 */
const idpPort = Number(process.env.E2E_IDP_PORT ?? 9411);
const idpIssuer = `http://127.0.0.1:${idpPort}`;
export const IDP_LABEL = "Corp ID";
export const IDP_PEOPLE = {
  /** Signs up by signing in with Corp ID. */
  newcomer: { sub: "carol", email: "carol@example.com", email_verified: true, name: "Carol Example", password: "carol-dev-password" },
  /** Has a verified local account already: Corp ID links to it only from the account page. */
  existing: { sub: "alice", email: "alice@example.com", email_verified: true, name: "Alice Example", password: "alice-dev-password" },
  /** Someone else registered her address here and never confirmed it: Corp ID proves it is hers. */
  claimer: { sub: "erin", email: "erin@example.com", email_verified: true, name: "Erin Example", password: "erin-dev-password" },
  /** Linked to, then unlinked from, a local account (unverified at the provider, as links need not be). */
  linker: { sub: "bob", email: "bob@example.com", email_verified: false, name: "Bob Unverified", password: "bob-dev-password" },
  /** Says no at the consent page. */
  refuser: { sub: "dana", email: "dana@example.com", email_verified: true, name: "Dana Example", password: "dana-dev-password" },
};
const idpAccounts = join(process.env.E2E_DATA_DIR, "idp-accounts.json");
if (!existsSync(idpAccounts)) {
  // The provider reads the file at each sign-in: never let it see half of one.
  writeFileSync(`${idpAccounts}.${process.pid}`, JSON.stringify(Object.values(IDP_PEOPLE), null, 2));
  renameSync(`${idpAccounts}.${process.pid}`, idpAccounts);
}

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results/artifacts",
  timeout: 90_000,
  expect: { timeout: 10_000 },
  workers: 2,
  reporter: [["list"]],
  use: {
    baseURL,
    // A trace records every step of every test (a fifth of the run's CPU): only when asked,
    // E2E_TRACE=retain-on-failure (or on) keeps it, for `npx playwright show-trace`.
    trace: (process.env.E2E_TRACE as "on" | "retain-on-failure" | undefined) ?? "off",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      // Root needs --no-sandbox; the rest keeps Chromium off the (closed) network.
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--no-first-run",
        "--disable-quic",
      ],
    },
  },
  webServer: [
    {
      command: "node tools/oidc-provider/server.mjs",
      cwd: "..",
      url: `${idpIssuer}/.well-known/openid-configuration`,
      timeout: 30_000,
      reuseExistingServer: false,
      stdout: "ignore",
      stderr: "pipe",
      env: {
        IDP_PORT: String(idpPort),
        IDP_ISSUER: idpIssuer,
        IDP_REDIRECT_URIS: `${baseURL}/auth/oauth/corp/callback`,
        IDP_ACCOUNTS: idpAccounts,
        PATH: process.env.PATH ?? "/usr/bin:/bin",
      },
    },
    {
      command: ".venv/bin/python -m backend.serve",
      cwd: "..",
      url: `${baseURL}/health`,
      timeout: 120_000,
      reuseExistingServer: false,
      stdout: "ignore",
      stderr: "pipe",
      env: {
        ENVIRONMENT: "development",
        HOST: "127.0.0.1",
        PORT: String(port),
        PUBLIC_URL: baseURL,
        DATA_DIR: process.env.E2E_DATA_DIR,
        JWT_LIFETIME_SECONDS: String(ACCESS_TOKEN_SECONDS),
        LOG_LEVEL: "warning",
        FIRST_SUPERUSER_EMAIL: SUPERUSER.email,
        FIRST_SUPERUSER_PASSWORD: SUPERUSER.password,
        // Many accounts from one address in a few minutes: the per-IP limits are raised, the
        // per-account ones stay as shipped.
        RATE_LIMIT_IP: "5000/hour",
        RATE_LIMIT_LOGIN_IP: "5000/15minutes",
        RATE_LIMIT_REFRESH_IP: "50000/15minutes",
        RATE_LIMIT_REFRESH_ACCOUNT: "1000/15minutes",
        // "Continue with Corp ID": the provider above (its discovery is read at the first sign-in).
        OIDC_PROVIDERS: "corp",
        OIDC_CORP_DISCOVERY_URL: `${idpIssuer}/.well-known/openid-configuration`,
        OIDC_CORP_CLIENT_ID: "farm-auth-local",
        OIDC_CORP_CLIENT_SECRET: "farm-auth-local-dev-secret",
        OIDC_CORP_NAME: IDP_LABEL,
        PATH: process.env.PATH ?? "/usr/bin:/bin",
      },
    },
  ],
});
