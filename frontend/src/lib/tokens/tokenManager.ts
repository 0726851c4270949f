/**
 * The access token lives here, in memory only — never in localStorage or sessionStorage, where
 * any injected script could read it. The refresh token is an HttpOnly cookie the browser sends
 * to /auth/jwt/refresh; this module never sees it.
 *
 * - `restore()` on page load: one refresh brings the session back (any page, even one that
 *   makes no API call), before anything is rendered as signed in or out.
 * - A refresh is scheduled shortly before the token expires; only one refresh is ever in
 *   flight, and every caller that needs one shares it.
 * - `fetch()` adds the Bearer token; a 401 triggers one refresh and one retry, then sign-out.
 * - A refresh the server could not answer now (503, 429, or no answer at all) is tried again,
 *   inside the one refresh every caller shares: after `Retry-After` seconds (1–30 s; 5 s when
 *   absent or unreadable, and after a network error), at most 3 more times. Then, with a token
 *   still valid, this tab stays signed in and tries again in a while; without one, it is signed
 *   out, saying the server could not be reached (the refresh cookie is kept: a reload later
 *   brings the session back). A 503 never ends a session: the server keeps the old refresh
 *   token usable until a rotation completes.
 * - Signing out in one tab signs out every tab, signing in signs in every tab (BroadcastChannel).
 * - One browser, one account: the refresh cookie is shared by every tab, so a refresh may bring
 *   a token of someone else (another tab logged out and signed in as B). The state says so
 *   (`switchedFrom`), and a request meant for the user on screen is never replayed as another.
 */

export type SignOutReason =
  | "logout" // this tab asked
  | "other-tab" // another tab of this browser logged out
  | "ended" // the server ended the session: from another device, password change, reuse...
  | "expired" // the session ran out (idle or absolute deadline), or was never there
  | "deleted" // the account was deleted (in this tab or another of this browser)
  | "unavailable"; // no token left and the server could not answer a refresh (busy, down, offline)

export type AuthState =
  | { status: "unknown" } // restoring: show neither the app nor the login screen yet
  | {
      status: "signed-in";
      token: string;
      expiresAt: number;
      userId: string; // the token's `sub`
      /**
       * The user this tab showed before the shared cookie brought `userId`: the screen must start
       * over, with a word why. Null when this tab chose `userId` itself, or once acknowledged.
       */
      switchedFrom: string | null;
    }
  | { status: "signed-out"; reason: SignOutReason | null };

type Listener = (state: AuthState) => void;

/** What tabs tell each other. Never a token: a user id is all another tab needs to decide. */
type TabMessage = { type: "logout"; reason?: "deleted" } | { type: "login"; userId: string };

interface Channel {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
  close(): void;
}

export interface TokenManagerOptions {
  refreshUrl?: string;
  logoutUrl?: string;
  fetch?: typeof fetch;
  now?: () => number; // milliseconds
  channel?: Channel | null;
  /**
   * Whether this browser may hold a session at all (the app: its scripts-readable CSRF cookie,
   * written and cleared with the refresh cookie). When it says no, restoring answers "signed
   * out" without asking the server, so a visitor's first page load logs no 401.
   */
  mayHaveSession?: () => boolean;
}

const SESSION_ENDED_CODES = new Set(["SESSION_ENDED", "REFRESH_TOKEN_REUSED"]);
/** A refresh that the server could not answer now (busy, failing over, over a rate limit). */
const TRANSIENT_STATUSES = new Set([429, 503]);
const TRANSIENT_RETRIES = 3;
const RETRY_DEFAULT_MS = 5_000; // after a network error, or a Retry-After absent or unreadable
const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 30_000;

/** How long to wait before trying a refresh again: its `Retry-After` seconds, within bounds. */
export function retryDelay(response: Response | null): number {
  const header = response?.headers.get("Retry-After")?.trim() ?? "";
  if (!/^\d{1,6}$/.test(header)) {
    return RETRY_DEFAULT_MS;
  }
  return Math.min(RETRY_MAX_MS, Math.max(RETRY_MIN_MS, Number(header) * 1000));
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A 401 MFA_REQUIRED is a sign-in's answer (its first factor was right), not an expired token:
 * no refresh, and above all no replay, which would spend a one-time sign-in link again.
 */
async function asksSecondFactor(response: Response): Promise<boolean> {
  const body = (await response
    .clone()
    .json()
    .catch(() => null)) as { detail?: { code?: unknown } } | null;
  return body?.detail?.code === "MFA_REQUIRED";
}

/** Seconds before expiry to refresh: a quarter of the lifetime, between 2 s and 60 s. */
export function refreshMargin(lifetimeSeconds: number): number {
  return Math.min(60, Math.max(2, lifetimeSeconds / 4));
}

/** The `sub`, `exp` and `iat` of a JWT, read without verifying (the server verifies). */
export function tokenClaims(token: string): { sub: string; exp: number; iat: number } {
  const payload = token.split(".")[1] ?? "";
  const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
  const claims = JSON.parse(json) as { sub?: unknown; exp?: unknown; iat?: unknown };
  if (typeof claims.sub !== "string" || typeof claims.exp !== "number" || typeof claims.iat !== "number") {
    throw new Error("access token without sub/exp/iat");
  }
  return { sub: claims.sub, exp: claims.exp, iat: claims.iat };
}

export class TokenManager {
  private state: AuthState = { status: "unknown" };
  private readonly listeners = new Set<Listener>();
  private inflight: Promise<boolean> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly refreshUrl: string;
  private readonly logoutUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;
  private readonly channel: Channel | null;
  private readonly mayHaveSession: () => boolean;
  /** Counts sign-ins and sign-outs, so a refresh waiting to try again knows it was overtaken. */
  private changes = 0;
  /** Whose data this tab shows, or showed before it was signed out; null until anyone signed in. */
  private shownUser: string | null = null;

  constructor(options: TokenManagerOptions = {}) {
    this.refreshUrl = options.refreshUrl ?? "/auth/jwt/refresh";
    this.logoutUrl = options.logoutUrl ?? "/auth/jwt/logout";
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.now = options.now ?? (() => Date.now());
    this.mayHaveSession = options.mayHaveSession ?? (() => true);
    this.channel =
      options.channel !== undefined
        ? options.channel
        : typeof BroadcastChannel === "undefined"
          ? null
          : new BroadcastChannel("farm-auth");
    this.channel?.addEventListener("message", (event: MessageEvent) => this.hear(event.data));
  }

  getState(): AuthState {
    return this.state;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** On page load: bring the session back through the refresh cookie. */
  async restore(): Promise<boolean> {
    if (!this.mayHaveSession()) {
      this.setState({ status: "signed-out", reason: null });
      return false;
    }
    return this.refresh();
  }

  /** After a login in this tab: keep the token, schedule its refresh, and tell the other tabs. */
  signIn(accessToken: string): void {
    const userId = this.adopt(accessToken, "this-tab");
    this.post({ type: "login", userId });
  }

  /** The person has seen that this tab now shows another user: stop saying so. */
  acknowledgeSwitch(): void {
    if (this.state.status === "signed-in" && this.state.switchedFrom !== null) {
      this.setState({ ...this.state, switchedFrom: null });
    }
  }

  /** Exchange the refresh cookie for a new access token; concurrent callers share one request. */
  refresh(): Promise<boolean> {
    this.inflight ??= this.doRefresh().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  /** `fetch` with the Bearer token; on 401, one refresh and one retry (as the same user only). */
  async fetch(request: Request): Promise<Response> {
    const retry = request.clone();
    const sentAs = this.currentUser();
    const response = await this.fetchImpl(this.withToken(request));
    if (response.status !== 401 || this.state.status !== "signed-in" || (await asksSecondFactor(response))) {
      return response;
    }
    if (!(await this.refresh())) {
      return response; // signed out by the refresh; the UI shows the login screen
    }
    if (sentAs !== null && this.currentUser() !== sentAs) {
      // The cookie now belongs to someone else: this request was meant for the user on screen
      // (adding a task to their list...), and replaying it as another would mix the two.
      return response;
    }
    const second = await this.fetchImpl(this.withToken(retry));
    if (second.status === 401) {
      this.signOut("expired", true);
    }
    return second;
  }

  /** Log out here (the server ends the session and clears the cookies) and in every other tab. */
  async logout(): Promise<void> {
    if (this.state.status === "signed-in") {
      try {
        // Through `fetch`: a token that expired while the laptop slept is refreshed first, so
        // the server really ends the session instead of leaving a live refresh cookie behind.
        await this.fetch(new Request(this.logoutUrl, { method: "POST", credentials: "same-origin" }));
      } catch {
        // Offline: the session ends locally now, on the server when it expires.
      }
    }
    this.signOut("logout", true);
  }

  /** Forget the session; with `broadcast`, other tabs forget it too. */
  signOut(reason: SignOutReason, broadcast: boolean): void {
    this.changes += 1;
    this.clearTimer();
    this.setState({ status: "signed-out", reason });
    if (broadcast) {
      this.post(reason === "deleted" ? { type: "logout", reason } : { type: "logout" });
    }
  }

  dispose(): void {
    this.clearTimer();
    this.channel?.close();
    this.listeners.clear();
  }

  private async doRefresh(): Promise<boolean> {
    const hadSession = this.state.status === "signed-in";
    const changes = this.changes;
    let response: Response | null = null;
    for (let attempt = 0; ; attempt += 1) {
      try {
        response = await this.fetchImpl(new Request(this.refreshUrl, { method: "POST", credentials: "same-origin" }));
      } catch {
        response = null; // network trouble: no answer at all
      }
      if (response !== null && !TRANSIENT_STATUSES.has(response.status)) {
        break;
      }
      if (attempt === TRANSIENT_RETRIES) {
        return this.giveUp(retryDelay(response));
      }
      await wait(retryDelay(response));
      if (this.changes !== changes) {
        return this.state.status === "signed-in"; // signed in or out meanwhile: that stands
      }
    }
    if (response.ok) {
      const body = (await response.json()) as { access_token: string };
      this.adopt(body.access_token, "cookie");
      return true;
    }
    const detail = await response
      .json()
      .then((body: { detail?: unknown }) => body.detail)
      .catch(() => null);
    // A known token of an ended session says so; no cookie at all is simply "not signed in".
    const ended = typeof detail === "string" && SESSION_ENDED_CODES.has(detail);
    this.clearTimer();
    this.setState({ status: "signed-out", reason: ended ? "ended" : hadSession ? "expired" : null });
    return false;
  }

  /**
   * The server could not answer a refresh, however often asked: keep a token that is still valid
   * and try again later (the session is not lost); without one, this tab cannot go on.
   */
  private giveUp(delayMs: number): boolean {
    if (this.state.status === "signed-in" && this.state.expiresAt > this.now()) {
      this.scheduleIn(delayMs);
    } else {
      this.signOut("unavailable", false);
    }
    return false;
  }

  /**
   * Make `accessToken` the current one and schedule its refresh. A token from the shared cookie
   * may be someone else's than the user on screen; one this tab signed in for never is.
   */
  private adopt(accessToken: string, source: "this-tab" | "cookie"): string {
    const { sub, exp, iat } = tokenClaims(accessToken);
    const switchedFrom = source === "cookie" ? this.switchedFrom(sub) : null;
    const expiresAt = exp * 1000;
    this.shownUser = sub;
    this.changes += 1;
    this.setState({ status: "signed-in", token: accessToken, expiresAt, userId: sub, switchedFrom });
    this.schedule(expiresAt, exp - iat);
    return sub;
  }

  /** For a token of `userId` from the cookie: who this tab showed before, if that was someone else. */
  private switchedFrom(userId: string): string | null {
    if (this.shownUser !== null && this.shownUser !== userId) {
      return this.shownUser;
    }
    // The same person: a notice not yet acknowledged stays.
    return this.state.status === "signed-in" ? this.state.switchedFrom : null;
  }

  /** A message from another tab of this browser. */
  private hear(data: unknown): void {
    const message = data as Partial<{ type: unknown; userId: unknown; reason: unknown }> | null;
    if (message?.type === "logout" && this.state.status === "signed-in") {
      this.signOut(message.reason === "deleted" ? "deleted" : "other-tab", false);
    } else if (message?.type === "login" && typeof message.userId === "string") {
      void this.follow(message.userId);
    }
  }

  /**
   * Another tab signed in as `userId`, so the shared cookie is that session now: take it up at
   * once instead of showing the previous user (or the login screen) until the next refresh.
   */
  private async follow(userId: string): Promise<void> {
    // A refresh already in flight may have sent the cookie from before that login: then one more.
    for (let attempt = 0; attempt < 2 && this.currentUser() !== userId; attempt += 1) {
      await this.refresh();
    }
  }

  private currentUser(): string | null {
    return this.state.status === "signed-in" ? this.state.userId : null;
  }

  private post(message: TabMessage): void {
    this.channel?.postMessage(message);
  }

  private withToken(request: Request): Request {
    if (this.state.status !== "signed-in") {
      return request;
    }
    const headers = new Headers(request.headers);
    headers.set("Authorization", `Bearer ${this.state.token}`);
    return new Request(request, { headers });
  }

  private schedule(expiresAt: number, lifetimeSeconds: number): void {
    const at = expiresAt - refreshMargin(lifetimeSeconds) * 1000;
    this.scheduleIn(Math.max(0, at - this.now()));
  }

  private scheduleIn(delayMs: number): void {
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.refresh();
    }, delayMs);
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private setState(state: AuthState): void {
    this.state = state;
    for (const listener of this.listeners) {
      listener(state);
    }
  }
}
