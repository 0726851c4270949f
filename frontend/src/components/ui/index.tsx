import { useCallback, useId, useLayoutEffect, useRef, useState } from "react";
import type { InputHTMLAttributes, ReactNode } from "react";

import { errorMessage } from "../../lib/api/errors";
import { CANCELLED } from "../../lib/confirmation";
import { ThemeSwitch } from "../ThemeSwitch";

type FieldProps = {
  label: string;
  hint?: string;
  /** What is wrong with the value, shown by the field and announced with it (WCAG 3.3.1). */
  error?: string | null;
} & InputHTMLAttributes<HTMLInputElement>;

/**
 * A labelled input with its hint and error beside it. A password field has a "Show" toggle, so
 * a person can check what they typed (the value never leaves the page because of it).
 */
export function Field({ label, hint, error, type, ...input }: FieldProps) {
  const id = useId();
  const [shown, setShown] = useState(false);
  const password = type === "password";
  const described = [error && `${id}-error`, hint && `${id}-hint`].filter(Boolean).join(" ") || undefined;
  const control = (
    <input
      id={id}
      type={password && shown ? "text" : type}
      aria-describedby={described}
      aria-invalid={error ? true : undefined}
      {...input}
    />
  );
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {password ? (
        <span className="password-input">
          {control}
          <button type="button" className="reveal" aria-controls={id} aria-pressed={shown} onClick={() => setShown(!shown)}>
            {/* One name, its state in aria-pressed (a toggle's name does not change with it). */}
            Show<span className="visually-hidden"> password</span>
          </button>
        </span>
      ) : (
        control
      )}
      {error && (
        <small id={`${id}-error`} className="field-error">
          {error}
        </small>
      )}
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
export function NewPasswordField({
  label = "New password",
  name = "password",
  error,
}: {
  label?: string;
  name?: string;
  error?: string | null;
}) {
  return (
    <Field
      label={label}
      name={name}
      type="password"
      autoComplete="new-password"
      minLength={8}
      required
      hint={PASSWORD_HINT}
      error={error}
    />
  );
}

/** The frame of pages shown whether or not someone is signed in. */
export function PublicPage({ children }: { children: ReactNode }) {
  return (
    <>
      <main id="main" className="narrow">
        <h1 className="brand">FARM Auth</h1>
        {children}
      </main>
      <footer className="public-footer">
        <ThemeSwitch />
      </footer>
    </>
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

export function SubmitButton({ busy, wide = false, children }: { busy: boolean; wide?: boolean; children: ReactNode }) {
  return (
    <button type="submit" className={wide ? "primary wide" : "primary"} disabled={busy} aria-busy={busy}>
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
