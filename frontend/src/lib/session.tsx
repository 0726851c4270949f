import { createContext, useCallback, useContext, useEffect, useState, useSyncExternalStore } from "react";
import type { ReactNode } from "react";

import { api, formBody } from "./api/client";
import type { User } from "./api/client";
import { errorMessage } from "./api/errors";
import { secondFactors } from "./api/secondFactors";
import type { Proof } from "./api/secondFactors";
import { challengeOf, errorCode } from "./challenge";
import type { MfaChallenge } from "./challenge";
import type { AuthState } from "./tokens/tokenManager";
import { tokens } from "./tokens/tokens";

/** Why a sign-in started no session: a message, the API's code, and the second step if that is why. */
export interface SignInFailure {
  message: string;
  code: string | null;
  /** The account has a second factor: finish at /sign-in/mfa with this. */
  challenge: MfaChallenge | null;
}

interface AuthContextValue {
  state: AuthState;
  /** The account of the token's user: never one loaded for an earlier token of someone else. */
  user: User | null;
  /** Why the signed-in user's account could not be loaded (say, the database is down). */
  userError: string | null;
  /** Log in; resolves to why not, or null on success. */
  login(email: string, password: string): Promise<SignInFailure | null>;
  /** Sign in with the token of a mailed one-time link; why not, or null on success. */
  signInWithLink(token: string): Promise<SignInFailure | null>;
  /** The second step: the ticket of an MFA_REQUIRED answer and a code, recovery code or passkey. */
  verifySecondFactor(ticket: string, proof: Proof): Promise<SignInFailure | null>;
  /** Sign in through a method's own route (a passkey's): what it answered; why not, or null. */
  signInWith(answer: Promise<SessionAnswer>): Promise<SignInFailure | null>;
  logout(): Promise<void>;
  /** The server deleted the account (and cleared its cookies): sign out here and in every tab. */
  accountDeleted(): void;
  reloadUser(): Promise<void>;
  /** The person has read that this tab now shows the account signed in to in another tab. */
  acknowledgeSwitch(): void;
}

const AuthContext = createContext<AuthContextValue | null>(null);

/** What the routes that start a session answer (openapi-fetch's shape). */
export type SessionAnswer = { data?: { access_token: string }; error?: unknown };

let restoring: Promise<boolean> | null = null; // once per page load, even under StrictMode

export function AuthProvider({ children }: { children: ReactNode }) {
  const state = useSyncExternalStore(
    (listener) => tokens.subscribe(listener),
    () => tokens.getState(),
  );
  const [loaded, setLoaded] = useState<User | null>(null);
  const userId = state.status === "signed-in" ? state.userId : null;
  // When the shared cookie brought someone else, the account loaded so far is not theirs.
  const user = loaded !== null && loaded.id === userId ? loaded : null;

  useEffect(() => {
    restoring ??= tokens.restore();
  }, []);

  const [userError, setUserError] = useState<string | null>(null);

  const reloadUser = useCallback(async () => {
    const asked = currentUserId();
    // Signed out meanwhile, or the answer is for a token since replaced by another user's: drop it.
    const stillAsked = () => asked !== null && asked === currentUserId();
    setUserError(null);
    try {
      const { data, error } = await api.GET("/users/me");
      if (!stillAsked()) return;
      if (data) setLoaded(data);
      else setUserError(errorMessage(error));
    } catch {
      if (stillAsked()) setUserError("The server could not be reached.");
    }
  }, []);

  useEffect(() => {
    if (userId === null) {
      setLoaded(null);
    } else if (!user) {
      void reloadUser();
    }
  }, [userId, user, reloadUser]);

  // Every way of signing in ends here: the server started a session and answered its token.
  const begin = useCallback(({ data, error }: SessionAnswer): SignInFailure | null => {
    if (!data) return { message: errorMessage(error), code: errorCode(error), challenge: challengeOf(error) };
    setLoaded(null);
    tokens.signIn(data.access_token);
    return null;
  }, []);

  const login = useCallback(
    async (email: string, password: string) =>
      begin(await api.POST("/auth/jwt/login", { body: { username: email, password }, ...formBody })),
    [begin],
  );

  const signInWithLink = useCallback(
    async (token: string) => begin(await api.POST("/auth/sign-in-link/consume", { body: { token } })),
    [begin],
  );

  const verifySecondFactor = useCallback(
    async (ticket: string, proof: Proof) => begin(await secondFactors.verify(ticket, proof)),
    [begin],
  );

  const signInWith = useCallback(async (answer: Promise<SessionAnswer>) => begin(await answer), [begin]);

  const logout = useCallback(async () => {
    await finishBeforeSignOut();
    await tokens.logout();
  }, []);
  const accountDeleted = useCallback(() => tokens.signOut("deleted", true), []);
  const acknowledgeSwitch = useCallback(() => tokens.acknowledgeSwitch(), []);

  return (
    <AuthContext.Provider
      value={{
        state,
        user,
        userError,
        login,
        signInWithLink,
        verifySecondFactor,
        signInWith,
        logout,
        accountDeleted,
        reloadUser,
        acknowledgeSwitch,
      }}
    >
      {children}
    </AuthContext.Provider>
  );
}

/**
 * Work the person started that must reach the server as them before their session ends (a
 * delete waiting out its Undo): logging out waits for it, a few seconds at most.
 */
const beforeSignOut = new Set<() => Promise<void>>();
const SIGN_OUT_WAIT_MILLISECONDS = 3000;

async function finishBeforeSignOut(): Promise<void> {
  const work = Promise.allSettled([...beforeSignOut].map((finish) => finish()));
  let timer: number | undefined;
  const limit = new Promise<void>((resolve) => (timer = window.setTimeout(resolve, SIGN_OUT_WAIT_MILLISECONDS)));
  await Promise.race([work, limit]);
  window.clearTimeout(timer);
}

/** `finish` runs when the person logs out here, before the session ends (see above). */
export function useBeforeSignOut(finish: () => Promise<void>): void {
  useEffect(() => {
    beforeSignOut.add(finish);
    return () => {
      beforeSignOut.delete(finish);
    };
  }, [finish]);
}

/** Who the current token belongs to, now (not as of the last render). */
export function currentUserId(): string | null {
  const state = tokens.getState();
  return state.status === "signed-in" ? state.userId : null;
}

export function useAuth(): AuthContextValue {
  const context = useContext(AuthContext);
  if (!context) throw new Error("useAuth outside <AuthProvider>");
  return context;
}
