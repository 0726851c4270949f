import { useCallback, useId, useLayoutEffect, useRef, useState } from "react";
import type { InputHTMLAttributes, ReactNode } from "react";

import { errorMessage } from "../../lib/api/errors";
import { CANCELLED } from "../../lib/confirmation";

export function Field({ label, hint, ...input }: { label: string; hint?: string } & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} aria-describedby={hint ? `${id}-hint` : undefined} {...input} />
      {hint && (
        <small id={`${id}-hint`} className="hint">
          {hint}
        </small>
      )}
    </div>
  );
}

const PASSWORD_HINT = "At least 8 characters. A few unusual words make a strong, memorable password.";

/** A field for choosing a password: the browser may suggest one, the hint says what passes. */
export function NewPasswordField({ label = "New password", name = "password" }: { label?: string; name?: string }) {
  return (
    <Field label={label} name={name} type="password" autoComplete="new-password" minLength={8} required hint={PASSWORD_HINT} />
  );
}

/** The frame of pages shown whether or not someone is signed in. */
export function PublicPage({ children }: { children: ReactNode }) {
  return (
    <main id="main" className="narrow">
      <h1 className="brand">FARM Auth</h1>
      {children}
    </main>
  );
}

/** A message for the person, or none. */
export type Notice = { kind: "error" | "info"; text: string } | null;

export function Alert({ kind, children }: { kind: "error" | "success" | "info"; children: ReactNode }) {
  if (!children) return null;
  return (
    <p className={`alert alert-${kind}`} role={kind === "error" ? "alert" : "status"}>
      {children}
    </p>
  );
}

export function SubmitButton({ busy, children }: { busy: boolean; children: ReactNode }) {
  return (
    <button type="submit" className="primary" disabled={busy} aria-busy={busy}>
      {busy ? "Working…" : children}
    </button>
  );
}

export function Spinner({ label = "Loading…" }: { label?: string }) {
  return (
    <p className="spinner" role="status">
      {label}
    </p>
  );
}

/**
 * Run an API call with loading and error state. `call` returns openapi-fetch's
 * `{ data, error }`; the error body becomes a message (none when a confirmation was dismissed).
 */
export function useAction<T, A extends unknown[]>(call: (...args: A) => Promise<{ data?: T; error?: unknown }>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // `run` stays the same function across renders (effects may depend on it); it calls the
  // latest `call`, which may close over new state.
  const latest = useRef(call);
  useLayoutEffect(() => {
    latest.current = call;
  });
  const run = useCallback(
    async (...args: A): Promise<{ ok: true; data: T | undefined } | { ok: false }> => {
      setBusy(true);
      setError(null);
      try {
        const { data, error: failure } = await latest.current(...args);
        if (failure === CANCELLED) return { ok: false }; // the person chose not to confirm: nothing to say
        if (failure !== undefined) {
          setError(errorMessage(failure));
          return { ok: false };
        }
        return { ok: true, data };
      } catch {
        setError("The server could not be reached. Check your connection and try again.");
        return { ok: false };
      } finally {
        setBusy(false);
      }
    },
    [],
  );
  return { run, busy, error, setError };
}
