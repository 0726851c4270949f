import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { defineConfig } from "@playwright/test";

/**
 * End-to-end tests: Debian's Chromium (headless) against the real backend (`python -m
 * backend.serve`) on the embedded database, with the built frontend. Each run starts from an
 * empty data folder. Access tokens live 15 s here, so every test also exercises silent refresh.
 */
const port = Number(process.env.E2E_PORT ?? 8765);
export const baseURL = `http://127.0.0.1:${port}`;
export const ACCESS_TOKEN_SECONDS = 15;
export const SUPERUSER = { email: "e2e.admin@example.com", password: "e2e superuser passphrase" };
process.env.E2E_DATA_DIR ??= mkdtempSync(join(tmpdir(), "farm-e2e-"));

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results/artifacts",
  timeout: 90_000,
  expect: { timeout: 10_000 },
  workers: 2,
  reporter: [["list"]],
  use: {
    baseURL,
    trace: "retain-on-failure",
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
  webServer: {
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
      PATH: process.env.PATH ?? "/usr/bin:/bin",
    },
  },
});
