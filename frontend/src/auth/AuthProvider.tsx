import { createContext, useCallback, useContext, useEffect, useState, useSyncExternalStore } from "react";
import type { ReactNode } from "react";

import { api, formBody } from "../api/client";
import type { User } from "../api/client";
import { errorMessage } from "../api/errors";
import type { AuthState } from "./tokenManager";
import { tokens } from "./tokens";

interface AuthContextValue {
  state: AuthState;
  user: User | null;
  /** Why the signed-in user's account could not be loaded (say, the database is down). */
  userError: string | null;
  /** Log in; resolves to an error message, or null on success. */
  login(email: string, password: string): Promise<string | null>;
  logout(): Promise<void>;
  reloadUser(): Promise<void>;
}

const AuthContext = createContext<AuthContextValue | null>(null);

let restoring: Promise<boolean> | null = null; // once per page load, even under StrictMode

export function AuthProvider({ children }: { children: ReactNode }) {
  const state = useSyncExternalStore(
    (listener) => tokens.subscribe(listener),
    () => tokens.getState(),
  );
  const [user, setUser] = useState<User | null>(null);

  useEffect(() => {
    restoring ??= tokens.restore();
  }, []);

  const [userError, setUserError] = useState<string | null>(null);

  const reloadUser = useCallback(async () => {
    setUserError(null);
    try {
      const { data, error } = await api.GET("/users/me");
      if (data) setUser(data);
      else if (tokens.getState().status === "signed-in") setUserError(errorMessage(error));
    } catch {
      setUserError("The server could not be reached.");
    }
  }, []);

  const signedIn = state.status === "signed-in";
  useEffect(() => {
    if (!signedIn) {
      setUser(null);
    } else if (!user) {
      void reloadUser();
    }
  }, [signedIn, user, reloadUser]);

  const login = useCallback(async (email: string, password: string) => {
    const { data, error } = await api.POST("/auth/jwt/login", { body: { username: email, password }, ...formBody });
    if (!data) return errorMessage(error);
    setUser(null);
    tokens.signIn(data.access_token);
    return null;
  }, []);

  const logout = useCallback(() => tokens.logout(), []);

  return (
    <AuthContext.Provider value={{ state, user, userError, login, logout, reloadUser }}>
      {children}
    </AuthContext.Provider>
  );
}

export function useAuth(): AuthContextValue {
  const context = useContext(AuthContext);
  if (!context) throw new Error("useAuth outside <AuthProvider>");
  return context;
}
