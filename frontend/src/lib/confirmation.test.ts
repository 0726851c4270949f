import createClient from "openapi-fetch";
import { describe, expect, it, vi } from "vitest";

import type { paths } from "./api/schema";
import { CANCELLED, confirmationRequired, withConfirmation } from "./confirmation";

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

const REQUIRED = {
  detail: {
    code: "CONFIRMATION_REQUIRED",
    reason: "Confirm it's you.",
    methods: ["password", "totp", "recovery_code", "passkey"],
  },
};

/** A fake server: answers requests in turn, and keeps what it was sent. */
function fakeServer(...answers: Array<() => Response>) {
  const seen: Array<{ method: string; path: string; body: string }> = [];
  const fetch = vi.fn(async (input: Request) => {
    seen.push({ method: input.method, path: new URL(input.url).pathname, body: await input.clone().text() });
    const next = answers.shift();
    if (!next) throw new Error(`unexpected ${input.method} ${input.url}`);
    return next();
  });
  const api = createClient<paths>({ baseUrl: "http://app.test", fetch });
  return { api, seen };
}

describe("confirmationRequired", () => {
  it("reads the methods of a CONFIRMATION_REQUIRED answer", () => {
    expect(confirmationRequired(REQUIRED)).toEqual(["password", "totp", "recovery_code", "passkey"]);
    expect(confirmationRequired({ detail: { code: "CONFIRMATION_REQUIRED", methods: ["passkey", "sms"] } })).toEqual([
      "passkey",
    ]);
  });

  it("is empty for an account with nothing to confirm with (it signs in again)", () => {
    expect(confirmationRequired({ detail: { code: "CONFIRMATION_REQUIRED", methods: [] } })).toEqual([]);
    expect(confirmationRequired({ detail: { code: "CONFIRMATION_REQUIRED" } })).toEqual([]);
  });

  it("is null for other errors", () => {
    expect(confirmationRequired({ detail: "Forbidden" })).toBeNull();
    expect(confirmationRequired({ detail: { code: "CONFIRMATION_INVALID" } })).toBeNull();
    expect(confirmationRequired(undefined)).toBeNull();
  });
});

describe("withConfirmation", () => {
  const change = (api: ReturnType<typeof fakeServer>["api"]) => () =>
    api.PATCH("/users/me", { body: { email: "new@example.com" } });

  it("runs the action once when it needs no confirmation", async () => {
    const server = fakeServer(() => json(200, { id: "u1", email: "new@example.com" }));
    const ask = vi.fn(async () => true);

    const result = await withConfirmation(change(server.api), ask);

    expect(result.data).toMatchObject({ email: "new@example.com" });
    expect(ask).not.toHaveBeenCalled();
    expect(server.seen).toHaveLength(1);
  });

  it("asks with the server's methods, then sends the same request once more", async () => {
    const server = fakeServer(
      () => json(403, REQUIRED),
      () => json(200, { id: "u1", email: "new@example.com" }),
    );
    const ask = vi.fn(async () => true);

    const result = await withConfirmation(change(server.api), ask);

    expect(ask).toHaveBeenCalledExactlyOnceWith(["password", "totp", "recovery_code", "passkey"]);
    expect(result.error).toBeUndefined();
    expect(result.data).toMatchObject({ email: "new@example.com" });
    expect(server.seen.map((request) => [request.method, request.path, request.body])).toEqual([
      ["PATCH", "/users/me", '{"email":"new@example.com"}'],
      ["PATCH", "/users/me", '{"email":"new@example.com"}'],
    ]);
  });

  it("does not retry when the person dismisses the dialog", async () => {
    const server = fakeServer(() => json(403, REQUIRED));

    const result = await withConfirmation(change(server.api), async () => false);

    expect(result.error).toBe(CANCELLED);
    expect(server.seen).toHaveLength(1);
  });

  it("retries only once: a second refusal is the answer", async () => {
    const server = fakeServer(
      () => json(403, REQUIRED),
      () => json(403, REQUIRED),
    );
    const ask = vi.fn(async () => true);

    const result = await withConfirmation(change(server.api), ask);

    expect(ask).toHaveBeenCalledTimes(1);
    expect(result.error).toEqual(REQUIRED);
    expect(server.seen).toHaveLength(2);
  });

  it("leaves other errors alone", async () => {
    const server = fakeServer(() => json(400, { detail: "UPDATE_USER_EMAIL_ALREADY_EXISTS" }));
    const ask = vi.fn(async () => true);

    const result = await withConfirmation(change(server.api), ask);

    expect(result.error).toEqual({ detail: "UPDATE_USER_EMAIL_ALREADY_EXISTS" });
    expect(ask).not.toHaveBeenCalled();
  });
});
