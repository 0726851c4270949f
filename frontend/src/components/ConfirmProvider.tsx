import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState } from "react";
import type { ReactNode } from "react";

import type { ConfirmMethod } from "../api/secondFactors";
import { useAuth } from "../auth/AuthProvider";
import { withConfirmation } from "../auth/confirmation";
import type { AskConfirmation, Cancelled } from "../auth/confirmation";
import { ConfirmDialog } from "./ConfirmDialog";

type Confirmed = <A extends unknown[], R extends { error?: unknown }>(
  action: (...args: A) => Promise<R>,
) => (...args: A) => Promise<R | Cancelled>;

const ConfirmContext = createContext<AskConfirmation | null>(null);

/** Holds the one "Confirm it's you" dialog of the app; `useConfirmed` opens it when needed. */
export function ConfirmProvider({ children }: { children: ReactNode }) {
  const [asking, setAsking] = useState<{ methods: ConfirmMethod[]; id: number } | null>(null);
  const resolver = useRef<((confirmed: boolean) => void) | null>(null);
  const counter = useRef(0);

  const ask = useCallback<AskConfirmation>(
    (methods) =>
      new Promise<boolean>((resolve) => {
        resolver.current?.(false); // one question at a time: an older one counts as dismissed
        resolver.current = resolve;
        counter.current += 1;
        setAsking({ methods, id: counter.current });
      }),
    [],
  );

  const done = useCallback((confirmed: boolean) => {
    const resolve = resolver.current;
    resolver.current = null;
    setAsking(null);
    resolve?.(confirmed);
  }, []);

  // Signed out meanwhile (another tab, the session ended): there is nothing left to confirm.
  const { state } = useAuth();
  const signedIn = state.status === "signed-in";
  useEffect(() => {
    if (!signedIn && asking) done(false);
  }, [signedIn, asking, done]);

  return (
    <ConfirmContext.Provider value={ask}>
      {children}
      {asking && <ConfirmDialog key={asking.id} methods={asking.methods} onDone={done} />}
    </ConfirmContext.Provider>
  );
}

/**
 * Wrap an API call (openapi-fetch's `{ data, error }`) so that a 403 CONFIRMATION_REQUIRED asks
 * the person to confirm it's you and then runs the call once more. A dismissed dialog gives the
 * error CANCELLED, which `useAction` does not report.
 */
export function useConfirmed(): Confirmed {
  const ask = useContext(ConfirmContext);
  if (!ask) throw new Error("useConfirmed outside <ConfirmProvider>");
  return useMemo<Confirmed>(
    () =>
      (action) =>
      (...args) =>
        withConfirmation(() => action(...args), ask),
    [ask],
  );
}
