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
 * - Signing out in one tab signs out every tab (BroadcastChannel).
 */

export type SignOutReason =
  | "logout" // this tab asked
  | "other-tab" // another tab of this browser logged out
  | "ended" // the server ended the session: from another device, password change, reuse...
  | "expired"; // the session ran out (idle or absolute deadline), or was never there

export type AuthState =
  | { status: "unknown" } // restoring: show neither the app nor the login screen yet
  | { status: "signed-in"; token: string; expiresAt: number }
  | { status: "signed-out"; reason: SignOutReason | null };

type Listener = (state: AuthState) => void;

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
}

const SESSION_ENDED_CODES = new Set(["SESSION_ENDED", "REFRESH_TOKEN_REUSED"]);
const RETRY_AFTER_NETWORK_ERROR_MS = 5_000;

/** Seconds before expiry to refresh: a quarter of the lifetime, between 2 s and 60 s. */
export function refreshMargin(lifetimeSeconds: number): number {
  return Math.min(60, Math.max(2, lifetimeSeconds / 4));
}

/** The `exp` and `iat` of a JWT, read without verifying (the server verifies). */
export function tokenTimes(token: string): { exp: number; iat: number } {
  const payload = token.split(".")[1] ?? "";
  const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
  const claims = JSON.parse(json) as { exp?: unknown; iat?: unknown };
  if (typeof claims.exp !== "number" || typeof claims.iat !== "number") {
    throw new Error("access token without exp/iat");
  }
  return { exp: claims.exp, iat: claims.iat };
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

  constructor(options: TokenManagerOptions = {}) {
    this.refreshUrl = options.refreshUrl ?? "/auth/jwt/refresh";
    this.logoutUrl = options.logoutUrl ?? "/auth/jwt/logout";
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.now = options.now ?? (() => Date.now());
    this.channel =
      options.channel !== undefined
        ? options.channel
        : typeof BroadcastChannel === "undefined"
          ? null
          : new BroadcastChannel("farm-auth");
    this.channel?.addEventListener("message", (event: MessageEvent) => {
      if ((event.data as { type?: string } | null)?.type === "logout" && this.state.status === "signed-in") {
        this.signOut("other-tab", false);
      }
    });
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
    return this.refresh();
  }

  /** After a login: keep the token and schedule its refresh. */
  signIn(accessToken: string): void {
    const { exp, iat } = tokenTimes(accessToken);
    const expiresAt = exp * 1000;
    this.setState({ status: "signed-in", token: accessToken, expiresAt });
    this.schedule(expiresAt, exp - iat);
  }

  /** Exchange the refresh cookie for a new access token; concurrent callers share one request. */
  refresh(): Promise<boolean> {
    this.inflight ??= this.doRefresh().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  /** `fetch` with the Bearer token; on 401, one refresh and one retry. */
  async fetch(request: Request): Promise<Response> {
    const retry = request.clone();
    const response = await this.fetchImpl(this.withToken(request));
    if (response.status !== 401 || this.state.status !== "signed-in") {
      return response;
    }
    if (!(await this.refresh())) {
      return response; // signed out by the refresh; the UI shows the login screen
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
    this.clearTimer();
    this.setState({ status: "signed-out", reason });
    if (broadcast) {
      this.channel?.postMessage({ type: "logout" });
    }
  }

  dispose(): void {
    this.clearTimer();
    this.channel?.close();
    this.listeners.clear();
  }

  private async doRefresh(): Promise<boolean> {
    const hadSession = this.state.status === "signed-in";
    let response: Response;
    try {
      response = await this.fetchImpl(new Request(this.refreshUrl, { method: "POST", credentials: "same-origin" }));
    } catch {
      // Network trouble: keep a token that is still valid and try again soon; otherwise the
      // user is signed out (there is no way to tell the server anything).
      if (this.state.status === "signed-in" && this.state.expiresAt > this.now()) {
        this.scheduleIn(RETRY_AFTER_NETWORK_ERROR_MS);
      } else {
        this.signOut("expired", false);
      }
      return false;
    }
    if (response.ok) {
      const body = (await response.json()) as { access_token: string };
      this.signIn(body.access_token);
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
