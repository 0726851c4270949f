import { useCallback, useId, useLayoutEffect, useRef, useState } from "react";
import type { InputHTMLAttributes, ReactNode } from "react";

import { errorMessage } from "../../lib/api/errors";
import { CANCELLED } from "../../lib/confirmation";
import { describeVerdict, STRENGTH_TEXT, usePasswordStrength } from "../../lib/passwordStrength";
import type { Verdict } from "../../lib/passwordStrength";
import { ThemeSwitch } from "../ThemeSwitch";

type FieldProps = {
  label: string;
  hint?: string;
  /** What is wrong with the value, shown by the field and announced with it (WCAG 3.3.1). */
  error?: string | null;
  /** Live news about the value (a password's strength), read with the field. */
  status?: (id: string) => ReactNode;
} & InputHTMLAttributes<HTMLInputElement>;

/**
 * A labelled input with its hint and error beside it. A password field has a "Show" toggle, so
 * a person can check what they typed (the value never leaves the page because of it).
 */
export function Field({ label, hint, error, status, type, ...input }: FieldProps) {
  const id = useId();
  const [shown, setShown] = useState(false);
  const password = type === "password";
  const described =
    [error && `${id}-error`, status && `${id}-status`, hint && `${id}-hint`].filter(Boolean).join(" ") || undefined;
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
      {status?.(`${id}-status`)}
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
/**
 * A new password with a strength meter: the server judges it as it is typed (after a pause),
 * with the same policy the submit applies. `email` is the account's address, so a password made
 * of it is refused here too; without it, the form's own email field is read.
 */
export function NewPasswordField({
  label = "New password",
  name = "password",
  error,
  email,
}: {
  label?: string;
  name?: string;
  error?: string | null;
  email?: string;
}) {
  const { verdict, check } = usePasswordStrength();
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
      onChange={(event) => {
        const field = event.currentTarget.form?.elements.namedItem("email");
        check(event.currentTarget.value, email ?? (field instanceof HTMLInputElement ? field.value : null));
      }}
      status={(id) => <StrengthMeter id={id} verdict={verdict} />}
    />
  );
}

function StrengthMeter({ id, verdict }: { id: string; verdict: Verdict | null }) {
  const said = verdict && describeVerdict(verdict);
  return (
    <small id={id} className={`strength ${verdict ? (verdict.acceptable ? "strength-ok" : "strength-weak") : ""}`}>
      {verdict && (
        <meter min={0} max={4} low={2} high={3} optimum={4} value={verdict.score} aria-label={STRENGTH_TEXT.label} />
      )}
      {/* Only the verdict is live: it changes a few times while typing, the advice at each pause. */}
      <span aria-live="polite">{said?.words}</span>
      {said?.advice && <span className="strength-advice"> {said.advice}</span>}
    </small>
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
