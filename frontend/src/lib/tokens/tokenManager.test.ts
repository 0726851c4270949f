import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { TokenManager, refreshMargin, retryDelay, tokenClaims } from "./tokenManager";
import type { TokenManagerOptions } from "./tokenManager";

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const ALICE = "64b000000000000000000a11";
const BOB = "64b000000000000000000b0b";

function base64url(value: unknown): string {
  return btoa(JSON.stringify(value)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A JWT as the server shapes it (the signature is the server's business). */
function accessToken(iatMs: number, lifetimeSeconds = 900, sub = ALICE): string {
  const iat = Math.floor(iatMs / 1000);
  const jti = Math.random().toString(36);
  return `${base64url({ alg: "HS256", typ: "JWT" })}.${base64url({ sub, iat, exp: iat + lifetimeSeconds, jti })}.sig`;
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

function manager(server: ReturnType<typeof fakeServer>, channel: TokenManagerOptions["channel"] = null): TokenManager {
  return new TokenManager({ fetch: server.fetch, channel, refreshUrl: "http://app.test/auth/jwt/refresh", logoutUrl: "http://app.test/auth/jwt/logout" });
}

const apiRequest = () => new Request("http://app.test/task/", { method: "POST", body: JSON.stringify({ name: "x" }) });

describe("token claims", () => {
  it("reads sub, exp and iat, and refreshes a quarter of the lifetime early within bounds", () => {
    const token = accessToken(T0, 900, BOB);
    expect(tokenClaims(token)).toEqual({ sub: BOB, iat: T0 / 1000, exp: T0 / 1000 + 900 });
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

  it("hands a sign-in's MFA_REQUIRED over as it is: no refresh, no replay of a one-time link", async () => {
    const server = fakeServer();
    const tokens = manager(server);
    tokens.signIn(accessToken(Date.now()));
    const challenge = { detail: { code: "MFA_REQUIRED", reason: "Enter a code.", ticket: "t", methods: ["totp"] } };
    server.api.push(() => json(401, challenge));

    const response = await tokens.fetch(new Request("http://app.test/auth/sign-in-link/consume", { method: "POST" }));

    expect(response.status).toBe(401);
    expect(await response.json()).toEqual(challenge);
    expect(server.refreshCount()).toBe(0);
    expect(tokens.getState().status).toBe("signed-in");
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

  it("asks nothing when the browser can hold no session", async () => {
    const server = fakeServer();
    let asked = 0;
    const tokens = new TokenManager({
      fetch: (input, init) => {
        asked += 1;
        return server.fetch(input, init);
      },
      channel: null,
      mayHaveSession: () => false,
    });

    expect(await tokens.restore()).toBe(false);
    expect(tokens.getState()).toEqual({ status: "signed-out", reason: null });
    expect(asked).toBe(0);
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

/** BroadcastChannel stand-ins for the tabs of one browser: a message reaches every other tab. */
function fakeTabs() {
  const open = new Set<{ deliver(data: unknown): void }>();
  const sent: unknown[] = [];
  function channel() {
    const listeners: Array<(event: MessageEvent) => void> = [];
    const tab = {
      deliver: (data: unknown) => listeners.forEach((listener) => listener(new MessageEvent("message", { data }))),
      postMessage(data: unknown) {
        sent.push(data);
        for (const other of open) if (other !== tab) other.deliver(data);
      },
      addEventListener(_type: "message", listener: (event: MessageEvent) => void) {
        listeners.push(listener);
      },
      close: () => open.delete(tab),
    };
    open.add(tab);
    return tab;
  }
  /** What another tab (with no token manager of its own here) says. */
  const say = (data: unknown) => channel().postMessage(data);
  return { channel, sent, say };
}

const tokenFor = (userId: string) => json(200, { access_token: accessToken(Date.now(), 900, userId) });

/** Let refreshes started by a message run to the end. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("one browser, one account: a refresh that brings another user", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("is told apart from a refresh of the same user, and said until acknowledged", async () => {
    const server = fakeServer();
    const tokens = manager(server);
    tokens.signIn(accessToken(T0, 900, ALICE));
    server.refreshes.push(() => tokenFor(ALICE), () => tokenFor(BOB), () => tokenFor(BOB), () => tokenFor(BOB));

    await vi.advanceTimersByTimeAsync(840_000);
    expect(tokens.getState()).toMatchObject({ status: "signed-in", userId: ALICE, switchedFrom: null });
    await vi.advanceTimersByTimeAsync(840_000); // another tab signed in as Bob meanwhile
    expect(tokens.getState()).toMatchObject({ status: "signed-in", userId: BOB, switchedFrom: ALICE });
    await vi.advanceTimersByTimeAsync(840_000);
    expect(tokens.getState()).toMatchObject({ userId: BOB, switchedFrom: ALICE }); // not yet read

    tokens.acknowledgeSwitch();
    expect(tokens.getState()).toMatchObject({ userId: BOB, switchedFrom: null });
    await vi.advanceTimersByTimeAsync(840_000);
    expect(tokens.getState()).toMatchObject({ userId: BOB, switchedFrom: null });
    expect(server.refreshCount()).toBe(4);
  });

  it("never replays a request meant for the user on screen as the new one", async () => {
    const server = fakeServer();
    const tokens = manager(server);
    tokens.signIn(accessToken(Date.now(), 900, ALICE));
    server.api.push(() => json(401, { detail: "Unauthorized" })); // Alice's session ended elsewhere
    server.refreshes.push(() => tokenFor(BOB));

    const response = await tokens.fetch(apiRequest());

    expect(response.status).toBe(401);
    expect(server.seen.filter((r) => r.url.endsWith("/task/"))).toHaveLength(1);
    expect(tokens.getState()).toMatchObject({ status: "signed-in", userId: BOB, switchedFrom: ALICE });
  });

  it("is no switch when this tab signs in as someone else itself, or on page load", async () => {
    const server = fakeServer();
    const tokens = manager(server);
    server.refreshes.push(() => tokenFor(ALICE));

    await tokens.restore();
    expect(tokens.getState()).toMatchObject({ userId: ALICE, switchedFrom: null });
    tokens.signOut("logout", true);
    tokens.signIn(accessToken(Date.now(), 900, BOB));
    expect(tokens.getState()).toMatchObject({ userId: BOB, switchedFrom: null });
  });
});

describe("one browser, one account: tabs tell each other who signed in", () => {
  it("a login tells the other tabs who, never the token", () => {
    const tabs = fakeTabs();
    const tokens = manager(fakeServer(), tabs.channel());
    const token = accessToken(Date.now(), 900, BOB);

    tokens.signIn(token);

    expect(tabs.sent).toEqual([{ type: "login", userId: BOB }]);
    expect(JSON.stringify(tabs.sent)).not.toContain(token.split(".")[1]);
  });

  it("a tab showing Alice switches to Bob as soon as another tab signs in as Bob", async () => {
    const tabs = fakeTabs();
    const server = fakeServer();
    const tokens = manager(server, tabs.channel());
    tokens.signIn(accessToken(Date.now(), 900, ALICE));
    server.refreshes.push(() => tokenFor(BOB));

    tabs.say({ type: "login", userId: BOB });
    await settle();

    expect(server.refreshCount()).toBe(1);
    expect(tokens.getState()).toMatchObject({ status: "signed-in", userId: BOB, switchedFrom: ALICE });
  });

  it("a tab logged out by another tab follows that tab's next login, saying whom it showed before", async () => {
    const tabs = fakeTabs();
    const server = fakeServer();
    const tokens = manager(server, tabs.channel());
    tokens.signIn(accessToken(Date.now(), 900, ALICE));
    server.refreshes.push(() => tokenFor(BOB));

    tabs.say({ type: "logout" });
    expect(tokens.getState()).toEqual({ status: "signed-out", reason: "other-tab" });
    tabs.say({ type: "login", userId: BOB });
    await settle();

    expect(tokens.getState()).toMatchObject({ status: "signed-in", userId: BOB, switchedFrom: ALICE });
  });

  it("a deleted account signs out every tab, saying so", () => {
    const tabs = fakeTabs();
    const here = manager(fakeServer(), tabs.channel());
    const there = manager(fakeServer(), tabs.channel());
    here.signIn(accessToken(Date.now(), 900, ALICE));
    there.signIn(accessToken(Date.now(), 900, ALICE));

    here.signOut("deleted", true);

    expect(tabs.sent.at(-1)).toEqual({ type: "logout", reason: "deleted" });
    expect(here.getState()).toEqual({ status: "signed-out", reason: "deleted" });
    expect(there.getState()).toEqual({ status: "signed-out", reason: "deleted" });
  });

  it("a login of the user already on screen costs no refresh", async () => {
    const tabs = fakeTabs();
    const server = fakeServer();
    const tokens = manager(server, tabs.channel());
    tokens.signIn(accessToken(Date.now(), 900, ALICE));

    tabs.say({ type: "login", userId: ALICE });
    await settle();

    expect(server.refreshCount()).toBe(0);
    expect(tokens.getState()).toMatchObject({ userId: ALICE, switchedFrom: null });
  });

  it("a refresh in flight from before the login is followed by one with the new cookie", async () => {
    const tabs = fakeTabs();
    const server = fakeServer();
    const tokens = manager(server, tabs.channel());
    tokens.signIn(accessToken(Date.now(), 900, ALICE));
    let answer: (response: Response) => void = () => undefined;
    server.refreshes.push(() => new Promise<Response>((resolve) => (answer = resolve)), () => tokenFor(BOB));

    const early = tokens.refresh(); // sent Alice's cookie
    tabs.say({ type: "login", userId: BOB });
    answer(tokenFor(ALICE));
    await early;
    await settle();

    expect(server.refreshCount()).toBe(2);
    expect(tokens.getState()).toMatchObject({ userId: BOB, switchedFrom: ALICE });
  });
});

/** A refresh the server cannot answer now: a 503 (failover) or a 429, with `Retry-After` if given. */
function busy(status: 503 | 429, retryAfter?: string): Response {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (retryAfter !== undefined) headers["Retry-After"] = retryAfter;
  return new Response(JSON.stringify({ detail: "The database is unavailable; try again shortly." }), { status, headers });
}

describe("a refresh the server cannot answer now (503, 429)", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Signed in, the token's refresh due at 840 s; the statuses it goes through from then on. */
  function signedIn(server: ReturnType<typeof fakeServer>) {
    const tokens = manager(server);
    tokens.signIn(accessToken(T0, 900));
    const states: string[] = [];
    tokens.subscribe((state) => states.push(state.status));
    return { tokens, states };
  }

  for (const status of [503, 429] as const) {
    it(`waits out a ${status}'s Retry-After and tries again, signed in all along`, async () => {
      const server = fakeServer();
      const { states } = signedIn(server);
      server.refreshes.push(() => busy(status, "3"));
      server.refreshes.push(() => json(200, { access_token: accessToken(Date.now(), 900) }));

      await vi.advanceTimersByTimeAsync(840_000);
      expect(server.refreshCount()).toBe(1);
      await vi.advanceTimersByTimeAsync(2_999);
      expect(server.refreshCount()).toBe(1); // not before Retry-After
      await vi.advanceTimersByTimeAsync(1);

      expect(server.refreshCount()).toBe(2);
      expect(states).toEqual(["signed-in"]); // the new token, and no sign-out on the way
    });
  }

  it("restores a session on page load through a 503, showing nothing signed out meanwhile", async () => {
    const server = fakeServer();
    const tokens = manager(server);
    const states: string[] = [];
    tokens.subscribe((state) => states.push(state.status));
    server.refreshes.push(() => busy(503, "5"));
    server.refreshes.push(() => json(200, { access_token: accessToken(Date.now()) }));

    const restored = tokens.restore();
    await vi.advanceTimersByTimeAsync(5_000);

    expect(await restored).toBe(true);
    expect(states).toEqual(["signed-in"]);
  });

  it("bounds Retry-After to 1–30 s and waits 5 s when it is absent or unreadable", () => {
    const after = (value?: string) => retryDelay(busy(503, value));
    expect(after("2")).toBe(2_000);
    expect(after("0")).toBe(1_000);
    expect(after("3600")).toBe(30_000);
    expect(after(undefined)).toBe(5_000);
    for (const malformed of ["soon", "-1", "1.5", "", "Wed, 21 Oct 2026 07:28:00 GMT", "9".repeat(400)]) {
      expect(after(malformed)).toBe(5_000);
    }
    expect(retryDelay(null)).toBe(5_000); // a network error
  });

  it("waits the default 5 s after a malformed Retry-After", async () => {
    const server = fakeServer();
    const { states } = signedIn(server);
    server.refreshes.push(() => busy(503, "in a moment"));
    server.refreshes.push(() => json(200, { access_token: accessToken(Date.now(), 900) }));

    await vi.advanceTimersByTimeAsync(840_000 + 4_999);
    expect(server.refreshCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.refreshCount()).toBe(2);
    expect(states).toEqual(["signed-in"]);
  });

  it("gives every caller the one refresh, retries included", async () => {
    const server = fakeServer();
    const tokens = manager(server);
    server.refreshes.push(() => busy(503, "1"), () => busy(429, "1"));
    server.refreshes.push(() => json(200, { access_token: accessToken(Date.now()) }));

    const callers = [tokens.restore(), tokens.refresh()];
    await vi.advanceTimersByTimeAsync(500);
    callers.push(tokens.refresh()); // joins while the first waits
    await vi.advanceTimersByTimeAsync(2_000);

    expect(await Promise.all(callers)).toEqual([true, true, true]);
    expect(server.refreshCount()).toBe(3);
  });

  it("gives up after 3 retries: keeps a token still valid and tries again later", async () => {
    const server = fakeServer();
    const { tokens, states } = signedIn(server);
    for (let i = 0; i < 4; i += 1) server.refreshes.push(() => busy(503, "10"));

    await vi.advanceTimersByTimeAsync(840_000 + 30_000);
    expect(server.refreshCount()).toBe(4);
    expect(tokens.getState().status).toBe("signed-in");
    expect(states).toEqual([]);

    server.refreshes.push(() => json(200, { access_token: accessToken(Date.now(), 900) }));
    await vi.advanceTimersByTimeAsync(10_000); // the next round, once the last Retry-After is over
    expect(server.refreshCount()).toBe(5);
    expect(states).toEqual(["signed-in"]);
  });

  it("gives up after 3 retries without a valid token: signed out, saying the server could not be reached", async () => {
    const server = fakeServer();
    const tokens = manager(server);
    server.refreshes.push(() => busy(503), () => Promise.reject(new TypeError("offline")), () => busy(429, "1"));
    server.refreshes.push(() => busy(503, "2"));

    const restored = tokens.restore();
    await vi.advanceTimersByTimeAsync(5_000 + 5_000 + 1_000 - 1);
    expect(tokens.getState().status).toBe("unknown"); // still trying
    await vi.advanceTimersByTimeAsync(1);

    expect(await restored).toBe(false);
    expect(server.refreshCount()).toBe(4);
    expect(tokens.getState()).toEqual({ status: "signed-out", reason: "unavailable" });
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(server.refreshCount()).toBe(4); // and stops asking
  });

  it("stops trying when the tab is signed out while it waits", async () => {
    const server = fakeServer();
    const { tokens } = signedIn(server);
    server.refreshes.push(() => busy(503, "5"));

    await vi.advanceTimersByTimeAsync(840_000);
    tokens.signOut("other-tab", false);
    await vi.advanceTimersByTimeAsync(60_000);

    expect(server.refreshCount()).toBe(1);
    expect(tokens.getState()).toEqual({ status: "signed-out", reason: "other-tab" });
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
