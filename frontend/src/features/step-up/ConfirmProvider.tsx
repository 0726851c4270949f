import { useCallback, useEffect, useRef, useState } from "react";
import type { ReactNode } from "react";

import type { ConfirmMethod } from "../../lib/api/secondFactors";
import { ConfirmContext } from "../../lib/confirmation";
import type { AskConfirmation } from "../../lib/confirmation";
import { useAuth } from "../../lib/session";
import { ConfirmDialog } from "./ConfirmDialog";

/**
 * Holds the one "Confirm it's you" dialog of the app; `useConfirmed` (lib/confirmation.ts), which
 * every feature that changes how an account signs in uses, opens it when needed.
 */
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
