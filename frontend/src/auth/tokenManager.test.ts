import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { TokenManager, refreshMargin, tokenTimes } from "./tokenManager";

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

function base64url(value: unknown): string {
  return btoa(JSON.stringify(value)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A JWT as the server shapes it (the signature is the server's business). */
function accessToken(iatMs: number, lifetimeSeconds = 900, jti = Math.random().toString(36)): string {
  const iat = Math.floor(iatMs / 1000);
  return `${base64url({ alg: "HS256", typ: "JWT" })}.${base64url({ iat, exp: iat + lifetimeSeconds, jti })}.sig`;
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

/** A fake server: answers refreshes from `refreshes`, API calls from `api`. */
function fakeServer() {
  const refreshes: Array<() => Response | Promise<Response>> = [];
  const api: Array<(request: Request) => Response> = [];
  const seen: Request[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL) => {
    const request = input as Request;
    seen.push(request);
    const path = new URL(request.url, "http://app.test").pathname;
    if (path === "/auth/jwt/refresh") {
      const next = refreshes.shift();
      if (!next) throw new Error("unexpected refresh");
      return next();
    }
    if (path === "/auth/jwt/logout") return new Response(null, { status: 204 });
    const next = api.shift();
    if (!next) throw new Error(`unexpected request ${path}`);
    return next(request);
  });
  const refreshCount = () => seen.filter((r) => r.url.endsWith("/auth/jwt/refresh")).length;
  return { fetch: fetch as unknown as typeof globalThis.fetch, refreshes, api, seen, refreshCount };
}

function manager(server: ReturnType<typeof fakeServer>, channel: null | undefined = null): TokenManager {
  return new TokenManager({ fetch: server.fetch, channel, refreshUrl: "http://app.test/auth/jwt/refresh", logoutUrl: "http://app.test/auth/jwt/logout" });
}

const apiRequest = () => new Request("http://app.test/task/", { method: "POST", body: JSON.stringify({ name: "x" }) });

describe("token times", () => {
  it("reads exp and iat, and refreshes a quarter of the lifetime early within bounds", () => {
    const token = accessToken(T0, 900);
    expect(tokenTimes(token)).toEqual({ iat: T0 / 1000, exp: T0 / 1000 + 900 });
    expect(refreshMargin(900)).toBe(60);
    expect(refreshMargin(120)).toBe(30);
    expect(refreshMargin(4)).toBe(2);
  });
});

describe("scheduling", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("refreshes shortly before expiry, then again before the next expiry", async () => {
    const server = fakeServer();
    const tokens = manager(server);
    tokens.signIn(accessToken(T0, 900));
    server.refreshes.push(() => json(200, { access_token: accessToken(Date.now(), 900) }));

    await vi.advanceTimersByTimeAsync((900 - 60) * 1000 - 1);
    expect(server.refreshCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.refreshCount()).toBe(1);
    expect(tokens.getState().status).toBe("signed-in");

    server.refreshes.push(() => json(200, { access_token: accessToken(Date.now(), 900) }));
    await vi.advanceTimersByTimeAsync((900 - 60) * 1000);
    expect(server.refreshCount()).toBe(2);
  });

  it("keeps a valid token through a network error and tries again soon", async () => {
    const server = fakeServer();
    const tokens = manager(server);
    tokens.signIn(accessToken(T0, 900));
    server.refreshes.push(() => Promise.reject(new TypeError("offline")));
    server.refreshes.push(() => json(200, { access_token: accessToken(Date.now(), 900) }));

    await vi.advanceTimersByTimeAsync(840_000);
    expect(tokens.getState().status).toBe("signed-in");
    await vi.advanceTimersByTimeAsync(5_000);
    expect(server.refreshCount()).toBe(2);
    expect(tokens.getState().status).toBe("signed-in");
  });

  it("stops refreshing once signed out", async () => {
    const server = fakeServer();
    const tokens = manager(server);
    tokens.signIn(accessToken(T0, 900));
    tokens.signOut("logout", false);

    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(server.refreshCount()).toBe(0);
  });
});

describe("single-flight refresh", () => {
  it("shares one request among every concurrent caller", async () => {
    const server = fakeServer();
    const tokens = manager(server);
    let answer: (response: Response) => void = () => undefined;
    server.refreshes.push(() => new Promise<Response>((resolve) => (answer = resolve)));

    const callers = [tokens.refresh(), tokens.refresh(), tokens.restore()];
    await Promise.resolve();
    answer(json(200, { access_token: accessToken(Date.now()) }));

    expect(await Promise.all(callers)).toEqual([true, true, true]);
    expect(server.refreshCount()).toBe(1);
  });

  it("gives concurrent 401s one refresh between them", async () => {
    const server = fakeServer();
    const tokens = manager(server);
    tokens.signIn(accessToken(Date.now()));
    server.api.push(() => json(401, {}), () => json(401, {}), () => json(200, {}), () => json(200, {}));
    server.refreshes.push(() => json(200, { access_token: accessToken(Date.now()) }));

    const responses = await Promise.all([tokens.fetch(apiRequest()), tokens.fetch(apiRequest())]);

    expect(responses.map((r) => r.status)).toEqual([200, 200]);
    expect(server.refreshCount()).toBe(1);
  });
});

describe("401: one refresh, one retry", () => {
  it("retries once with the new token", async () => {
    const server = fakeServer();
    const tokens = manager(server);
    const old = accessToken(Date.now());
    const fresh = accessToken(Date.now());
    tokens.signIn(old);
    server.api.push(() => json(401, { detail: "Unauthorized" }));
    server.refreshes.push(() => json(200, { access_token: fresh }));
    server.api.push((request) => json(200, { auth: request.headers.get("Authorization") }));

    const response = await tokens.fetch(apiRequest());

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ auth: `Bearer ${fresh}` });
    const bodies = await Promise.all(server.seen.filter((r) => r.url.endsWith("/task/")).map((r) => r.text()));
    expect(bodies).toEqual([JSON.stringify({ name: "x" }), JSON.stringify({ name: "x" })]);
  });

  it("signs out after a second 401 instead of looping", async () => {
    const server = fakeServer();
    const tokens = manager(server);
    tokens.signIn(accessToken(Date.now()));
    server.api.push(() => json(401, {}), () => json(401, {}));
    server.refreshes.push(() => json(200, { access_token: accessToken(Date.now()) }));

    const response = await tokens.fetch(apiRequest());

    expect(response.status).toBe(401);
    expect(server.api).toHaveLength(0);
    expect(server.refreshCount()).toBe(1);
    expect(tokens.getState()).toEqual({ status: "signed-out", reason: "expired" });
  });

  it("says so when the session was ended elsewhere", async () => {
    const server = fakeServer();
    const tokens = manager(server);
    tokens.signIn(accessToken(Date.now()));
    server.api.push(() => json(401, {}));
    server.refreshes.push(() => json(401, { detail: "SESSION_ENDED" }));

    const response = await tokens.fetch(apiRequest());

    expect(response.status).toBe(401);
    expect(tokens.getState()).toEqual({ status: "signed-out", reason: "ended" });
  });

  it("does not refresh for requests made while signed out", async () => {
    const server = fakeServer();
    const tokens = manager(server);
    tokens.signOut("logout", false);
    server.api.push(() => json(401, {}));

    expect((await tokens.fetch(apiRequest())).status).toBe(401);
    expect(server.refreshCount()).toBe(0);
  });
});

describe("restoring on page load", () => {
  it("signs in from the refresh cookie", async () => {
    const server = fakeServer();
    const tokens = manager(server);
    const states: string[] = [];
    tokens.subscribe((state) => states.push(state.status));
    server.refreshes.push(() => json(200, { access_token: accessToken(Date.now()) }));

    expect(tokens.getState().status).toBe("unknown");
    expect(await tokens.restore()).toBe(true);
    expect(states).toEqual(["signed-in"]); // never "signed-out" on the way: no login-screen flash
  });

  it("is simply signed out without a cookie, with no message", async () => {
    const server = fakeServer();
    const tokens = manager(server);
    server.refreshes.push(() => json(401, { detail: "REFRESH_TOKEN_INVALID" }));

    expect(await tokens.restore()).toBe(false);
    expect(tokens.getState()).toEqual({ status: "signed-out", reason: null });
  });
});

describe("logout", () => {
  it("ends the session on the server with the Bearer token", async () => {
    const server = fakeServer();
    const tokens = manager(server);
    const token = accessToken(Date.now());
    tokens.signIn(token);

    await tokens.logout();

    const logout = server.seen.find((r) => r.url.endsWith("/auth/jwt/logout"));
    expect(logout?.method).toBe("POST");
    expect(logout?.headers.get("Authorization")).toBe(`Bearer ${token}`);
    expect(tokens.getState()).toEqual({ status: "signed-out", reason: "logout" });
  });

  it("refreshes an expired token first, so the server really ends the session", async () => {
    const server = fakeServer();
    const fresh = accessToken(Date.now());
    const tokens = new TokenManager({
      channel: null,
      refreshUrl: "http://app.test/auth/jwt/refresh",
      logoutUrl: "http://app.test/auth/jwt/expired-logout",
      fetch: server.fetch,
    });
    tokens.signIn(accessToken(Date.now() - 3_600_000, 900)); // expired an hour ago
    server.api.push(() => json(401, {}), () => new Response(null, { status: 204 }));
    server.refreshes.push(() => json(200, { access_token: fresh }));

    await tokens.logout();

    const logouts = server.seen.filter((r) => r.url.endsWith("/expired-logout"));
    expect(logouts.map((r) => r.headers.get("Authorization"))).toEqual([expect.stringMatching(/^Bearer /), `Bearer ${fresh}`]);
    expect(server.refreshCount()).toBe(1);
    expect(tokens.getState()).toEqual({ status: "signed-out", reason: "logout" });
  });

  it("in one tab logs out every other tab", async () => {
    const one = new TokenManager({ fetch: fakeServer().fetch, logoutUrl: "http://app.test/auth/jwt/logout" });
    const two = new TokenManager({ fetch: fakeServer().fetch });
    const three = new TokenManager({ fetch: fakeServer().fetch });
    for (const tab of [one, two, three]) tab.signIn(accessToken(Date.now()));
    const signedOut = new Promise<void>((resolve) =>
      two.subscribe((state) => state.status === "signed-out" && resolve()),
    );

    await one.logout();
    await signedOut;
    await new Promise((resolve) => setTimeout(resolve, 20));

    expect(two.getState()).toEqual({ status: "signed-out", reason: "other-tab" });
    expect(three.getState()).toEqual({ status: "signed-out", reason: "other-tab" });
    for (const tab of [one, two, three]) tab.dispose();
  });
});

describe("storage", () => {
  it("never writes the token to web storage", async () => {
    localStorage.clear();
    sessionStorage.clear();
    const server = fakeServer();
    const tokens = manager(server);
    server.refreshes.push(() => json(200, { access_token: accessToken(Date.now()) }));
    await tokens.restore();
    server.api.push(() => json(200, {}));
    await tokens.fetch(apiRequest());

    expect(localStorage.length).toBe(0);
    expect(sessionStorage.length).toBe(0);
  });
});
