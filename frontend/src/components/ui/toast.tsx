/**
 * Toasts: short messages about what just happened ("Task deleted", "Saved"), announced to
 * screen readers by a live region that is always in the page (WCAG 4.1.3), optionally with one
 * action ("Undo"). A toast stays while the pointer or the keyboard is on it, then leaves after
 * its time; Escape dismisses it.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState } from "react";
import type { ReactNode } from "react";

export interface ToastInput {
  text: string;
  kind?: "info" | "success" | "error";
  /** One action, such as Undo; the toast closes when it runs. */
  action?: { label: string; run: () => void };
  /** How long it shows, in milliseconds (errors stay longer). */
  duration?: number;
}

interface Toast extends Required<Pick<ToastInput, "text" | "kind">> {
  id: number;
  owner: string | null;
  action?: ToastInput["action"];
  duration: number;
}

type Show = (toast: ToastInput) => () => void;

const ToastContext = createContext<Show>(() => () => undefined);

/** Show a toast; answers a function that dismisses it. */
export function useToast(): Show {
  return useContext(ToastContext);
}

let counter = 0;

/**
 * `owner` is who is signed in (a user id, or null): a toast belongs to the account it was shown
 * to, and is gone the moment someone else is signed in here — in the same render, so no frame
 * ever shows one person's task names under another's address.
 */
export function ToastProvider({ owner = null, children }: { owner?: string | null; children: ReactNode }) {
  const [all, setToasts] = useState<Toast[]>([]);
  const ownerNow = useRef(owner);
  ownerNow.current = owner;
  const toasts = all.filter((t) => t.owner === owner);
  useEffect(() => setToasts((now) => (now.every((t) => t.owner === owner) ? now : now.filter((t) => t.owner === owner))), [owner]);
  const dismiss = useCallback((id: number) => setToasts((now) => now.filter((t) => t.id !== id)), []);
  const show = useCallback<Show>(
    ({ text, kind = "info", action, duration }) => {
      counter += 1;
      const id = counter;
      const toast: Toast = {
        id,
        owner: ownerNow.current,
        text,
        kind,
        action,
        duration: duration ?? (kind === "error" ? 10_000 : action ? 8_000 : 5_000),
      };
      setToasts((now) => [...now.slice(-2), toast]); // three at most
      return () => dismiss(id);
    },
    [dismiss],
  );
  const value = useMemo(() => show, [show]);
  return (
    <ToastContext.Provider value={value}>
      {children}
      <div className="toasts" role="region" aria-label="Notifications">
        {/* Live regions without a role: pages keep their own status and alert roles to themselves. */}
        <div aria-live="polite" aria-atomic="false">
          {toasts
            .filter((t) => t.kind !== "error")
            .map((t) => (
              <ToastItem key={t.id} toast={t} onDone={() => dismiss(t.id)} />
            ))}
        </div>
        <div aria-live="assertive" aria-atomic="false">
          {toasts
            .filter((t) => t.kind === "error")
            .map((t) => (
              <ToastItem key={t.id} toast={t} onDone={() => dismiss(t.id)} />
            ))}
        </div>
      </div>
    </ToastContext.Provider>
  );
}

function ToastItem({ toast, onDone }: { toast: Toast; onDone: () => void }) {
  const [held, setHeld] = useState(false);
  const done = useRef(onDone);
  done.current = onDone;
  useEffect(() => {
    if (held) return;
    const timer = window.setTimeout(() => done.current(), toast.duration);
    return () => window.clearTimeout(timer);
  }, [held, toast.duration]);
  return (
    <div
      className={`toast toast-${toast.kind}`}
      onMouseEnter={() => setHeld(true)}
      onMouseLeave={() => setHeld(false)}
      onFocus={() => setHeld(true)}
      onBlur={() => setHeld(false)}
      onKeyDown={(event) => {
        if (event.key === "Escape") onDone();
      }}
    >
      <span>{toast.text}</span>
      {toast.action && (
        <button
          type="button"
          onClick={() => {
            toast.action?.run();
            onDone();
          }}
        >
          {toast.action.label}
        </button>
      )}
      <button type="button" className="toast-close" aria-label="Dismiss" onClick={onDone}>
        ×
      </button>
    </div>
  );
}
