import { useState } from "react";
import type { FormEvent, ReactNode } from "react";
import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/browser";

import type { ConfirmMethod, Proof } from "../lib/api/secondFactors";
import { normalizeCode } from "../lib/secretText";
import { passkeyAssertion, supportsPasskeys, UNREACHABLE } from "../lib/webauthn";
import { Alert, Field } from "./ui";

type TextMethod = Exclude<ConfirmMethod, "passkey">;
type Message = { kind: "error" | "info"; text: string } | null;

const PREFERRED: readonly ConfirmMethod[] = ["password", "totp", "passkey", "recovery_code"];

const SWITCH_LABELS: Record<ConfirmMethod, string> = {
  password: "Use your password",
  totp: "Use your authenticator app",
  recovery_code: "Use a recovery code",
  passkey: "Use a passkey",
};

/** What to ask first: the password, then the app's code, then a passkey; recovery codes last. */
export function firstMethod(methods: readonly ConfirmMethod[], passkeysWork = true): ConfirmMethod | null {
  return PREFERRED.find((method) => methods.includes(method) && (method !== "passkey" || passkeysWork)) ?? null;
}

function TextProofField({ method }: { method: TextMethod }) {
  if (method === "password") {
    return <Field label="Your password" name="proof" type="password" autoComplete="current-password" required autoFocus />;
  }
  if (method === "totp") {
    return (
      <Field
        label="Authenticator code"
        name="proof"
        type="text"
        inputMode="numeric"
        autoComplete="one-time-code"
        maxLength={9}
        required
        autoFocus
        hint="The 6-digit code your authenticator app shows now."
      />
    );
  }
  return (
    <Field
      label="Recovery code"
      name="proof"
      type="text"
      autoComplete="off"
      autoCapitalize="none"
      spellCheck={false}
      maxLength={64}
      required
      autoFocus
      hint="One of the codes you saved when you turned on two-step sign-in. Each works once."
    />
  );
}

function textProof(method: TextMethod, value: string): Proof {
  if (method === "password") return { current_password: value };
  if (method === "totp") return { code: normalizeCode(value) };
  return { recovery_code: value.trim() };
}

/**
 * Ask for one proof among `methods`: a password, an authenticator code, a recovery code or a
 * passkey. `onProof` sends it and answers an error message, or null when it was accepted.
 * Shared by "confirm it's you" and the second step of signing in.
 */
export function ProofForm({
  methods,
  submitLabel,
  passkeyOptions,
  onProof,
  children,
}: {
  methods: readonly ConfirmMethod[];
  submitLabel: string;
  passkeyOptions: () => Promise<{ data?: PublicKeyCredentialRequestOptionsJSON; error?: unknown }>;
  onProof: (proof: Proof) => Promise<string | null>;
  /** More controls beside the others (say, Cancel). */
  children?: ReactNode;
}) {
  const passkeysWork = supportsPasskeys();
  const [mode, setMode] = useState(() => firstMethod(methods, passkeysWork));
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<Message>(null);

  /** Send `proof`; whether it was accepted. */
  async function prove(proof: Proof): Promise<boolean> {
    try {
      const failure = await onProof(proof);
      if (failure === null) return true;
      setMessage({ kind: "error", text: failure });
    } catch {
      setMessage({ kind: "error", text: UNREACHABLE });
    }
    return false;
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (mode === null || mode === "passkey" || busy) return;
    const input = event.currentTarget.elements.namedItem("proof") as HTMLInputElement | null;
    setBusy(true);
    setMessage(null);
    const accepted = await prove(textProof(mode, input?.value ?? ""));
    setBusy(false);
    if (!accepted) input?.select(); // ready to type it again
  }

  async function usePasskey() {
    setBusy(true);
    setMessage(null);
    const outcome = await passkeyAssertion(passkeyOptions);
    if (outcome.ok) await prove({ passkey: outcome.credential });
    else if (outcome.message) setMessage({ kind: outcome.kind, text: outcome.message });
    setBusy(false);
  }

  function choose(method: ConfirmMethod) {
    if (method === "passkey") {
      void usePasskey();
    } else {
      setMode(method);
      setMessage(null);
    }
  }

  const others = methods.filter((method) => method !== mode && (method !== "passkey" || passkeysWork));
  return (
    <div className="proof">
      {message && <Alert kind={message.kind}>{message.text}</Alert>}
      {mode === "passkey" ? (
        <div className="proof-passkey">
          <p>Use the passkey saved on this device, on your phone, or on a security key.</p>
          <button type="button" className="primary" disabled={busy} aria-busy={busy} onClick={() => void usePasskey()}>
            {busy ? "Waiting for your passkey…" : "Use a passkey"}
          </button>
        </div>
      ) : mode !== null ? (
        <form key={mode} onSubmit={(event) => void submit(event)}>
          <TextProofField method={mode} />
          <button type="submit" className="primary" disabled={busy} aria-busy={busy}>
            {busy ? "Checking…" : submitLabel}
          </button>
        </form>
      ) : (
        <Alert kind="error">This browser cannot use passkeys, and this account has no other way to confirm it's you here.</Alert>
      )}
      <div className="method-actions proof-others">
        {others.map((method) => (
          <button key={method} type="button" disabled={busy} onClick={() => choose(method)}>
            {SWITCH_LABELS[method]}
          </button>
        ))}
        {children}
      </div>
    </div>
  );
}
