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
  // The control that led to the question gets the focus back when the dialog closes (WCAG
  // 2.4.3). It may be disabled while its action waits, which drops the focus: remember the last
  // control that had it.
  const opener = useRef<HTMLElement | null>(null);
  const lastFocused = useRef<HTMLElement | null>(null);
  useEffect(() => {
    const remember = (event: FocusEvent) => {
      if (event.target instanceof HTMLElement && !event.target.closest("dialog")) lastFocused.current = event.target;
    };
    document.addEventListener("focusin", remember);
    return () => document.removeEventListener("focusin", remember);
  }, []);

  const ask = useCallback<AskConfirmation>(
    (methods) =>
      new Promise<boolean>((resolve) => {
        resolver.current?.(false); // one question at a time: an older one counts as dismissed
        resolver.current = resolve;
        opener.current = lastFocused.current;
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
    const back = opener.current;
    opener.current = null;
    // Once the dialog is gone and the control usable again (its action retried meanwhile),
    // unless the page has put the focus somewhere on purpose.
    let tries = 0;
    const timer = window.setInterval(() => {
      tries += 1;
      const lost = document.activeElement === document.body || document.activeElement === null;
      if (!back || !back.isConnected || !lost || tries > 60) return window.clearInterval(timer);
      if ((back as HTMLButtonElement).disabled) return;
      back.focus();
      window.clearInterval(timer);
    }, 50);
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
