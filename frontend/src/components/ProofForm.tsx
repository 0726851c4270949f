import { useState } from "react";
import type { FormEvent, ReactNode } from "react";

import { UNREACHABLE } from "../lib/api/errors";
import type { ConfirmMethod, Proof } from "../lib/api/secondFactors";
import { usable, useProofMethods } from "../lib/proofs";
import type { CeremonyProof, ProofMethod, ProofPurpose, TextProof } from "../lib/proofs";
import { Alert, Field } from "./ui";

type Message = { kind: "error" | "info"; text: string } | null;

/** What to ask first: the first usable method in the app's order (lib/proofs.tsx). */
export function firstMethod(methods: readonly ProofMethod[], offered: readonly ConfirmMethod[]): ProofMethod | null {
  return usable(methods, offered)[0] ?? null;
}

/**
 * Ask for one proof among the `methods` the server offered: each is described by its feature
 * (lib/proofs.tsx), typed in or made by the browser. `onProof` sends it and answers an error
 * message, or null when it was accepted; `onRefusal` may take over when the server refuses to
 * start a ceremony (true: dealt with). Shared by "confirm it's you" and the second step of
 * signing in.
 */
export function ProofForm({
  methods,
  purpose,
  submitLabel,
  onProof,
  onRefusal,
  children,
}: {
  methods: readonly ConfirmMethod[];
  purpose: ProofPurpose;
  submitLabel: string;
  onProof: (proof: Proof) => Promise<string | null>;
  onRefusal?: (error: unknown) => boolean;
  /** More controls beside the others (say, Cancel). */
  children?: ReactNode;
}) {
  const known = useProofMethods();
  const [offered] = useState(() => usable(known, methods));
  const [mode, setMode] = useState<ProofMethod | null>(() => offered[0] ?? null);
  // None usable: the server offered only what this browser cannot do.
  const cannot =
    known
      .filter((method): method is CeremonyProof => method.kind === "ceremony")
      .find((method) => methods.includes(method.method))?.unavailable ?? "This browser cannot confirm it's you";
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

  async function submit(event: FormEvent<HTMLFormElement>, method: TextProof) {
    event.preventDefault();
    if (busy) return;
    const input = event.currentTarget.elements.namedItem("proof") as HTMLInputElement | null;
    setBusy(true);
    setMessage(null);
    const accepted = await prove(method.proof(input?.value ?? ""));
    setBusy(false);
    if (!accepted) input?.select(); // ready to type it again
  }

  async function ceremony(method: CeremonyProof) {
    setBusy(true);
    setMessage(null);
    const outcome = await method.prove(purpose);
    if (outcome.ok) await prove(outcome.proof);
    else if (outcome.error !== undefined && onRefusal?.(outcome.error)) setMessage(null);
    else if (outcome.message) setMessage({ kind: outcome.kind, text: outcome.message });
    setBusy(false);
  }

  /** Another method: a field to type in replaces this one; a ceremony starts at once. */
  function choose(method: ProofMethod) {
    if (method.kind === "ceremony") {
      void ceremony(method);
    } else {
      setMode(method);
      setMessage(null);
    }
  }

  return (
    <div className="proof">
      {message && <Alert kind={message.kind}>{message.text}</Alert>}
      {mode?.kind === "ceremony" ? (
        <div className={`proof-${mode.method}`}>
          <p>{mode.intro}</p>
          <button type="button" className="primary" disabled={busy} aria-busy={busy} onClick={() => void ceremony(mode)}>
            {busy ? mode.busyLabel : mode.button}
          </button>
        </div>
      ) : mode ? (
        <form key={mode.method} onSubmit={(event) => void submit(event, mode)}>
          <Field name="proof" required autoFocus {...mode.field} />
          <button type="submit" className="primary" disabled={busy} aria-busy={busy}>
            {busy ? "Checking…" : submitLabel}
          </button>
        </form>
      ) : (
        <Alert kind="error">{cannot}, and this account has no other way to confirm it's you here.</Alert>
      )}
      <div className="method-actions proof-others">
        {offered
          .filter((method) => method !== mode)
          .map((method) => (
            <button key={method.method} type="button" disabled={busy} onClick={() => choose(method)}>
              {method.switchLabel}
            </button>
          ))}
        {children}
      </div>
    </div>
  );
}
