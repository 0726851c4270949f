/**
 * The ways to prove it's you that a proof form offers: the password, and each second factor as
 * the feature that owns it describes it (features/totp, features/recovery-codes,
 * features/passkeys: their `proof.ts`). The app hands the list to every form through
 * <ProofMethods> (app/App.tsx), so the forms that take a proof — the second step of signing in,
 * "confirm it's you" — know no method by name, as the backend's factor registry
 * (apps/auth/flows/factors.py) knows none.
 */
import { createContext, useContext } from "react";
import type { InputHTMLAttributes } from "react";

import type { ConfirmMethod, Proof } from "./api/secondFactors";

/** What the proof is for: the options of a ceremony (a passkey's) depend on it. */
export type ProofPurpose = { purpose: "confirm" } | { purpose: "second_factor"; ticket: string };

/** What came of a ceremony: a proof to send, or what to tell the person (and the API's refusal). */
export type ProofOutcome =
  | { ok: true; proof: Proof }
  | { ok: false; kind: "error" | "info"; message: string | null; error?: unknown };

interface Described {
  method: ConfirmMethod;
  /** The button that switches to it: "Use a recovery code". */
  switchLabel: string;
}

/** A proof typed in: one field, turned into the API's proof. */
export interface TextProof extends Described {
  kind: "text";
  field: { label: string; hint?: string } & InputHTMLAttributes<HTMLInputElement>;
  proof(value: string): Proof;
}

/** A proof the browser makes (a passkey's assertion), when it can. */
export interface CeremonyProof extends Described {
  kind: "ceremony";
  available(): boolean;
  /** Why not, when it is not available: "This browser cannot use passkeys". */
  unavailable: string;
  intro: string;
  button: string;
  busyLabel: string;
  prove(purpose: ProofPurpose): Promise<ProofOutcome>;
}

export type ProofMethod = TextProof | CeremonyProof;

/** The account's password: step-up only (it is a first step of signing in, not a second). */
export const passwordProof: TextProof = {
  method: "password",
  switchLabel: "Use your password",
  kind: "text",
  field: { label: "Your password", type: "password", autoComplete: "current-password" },
  proof: (value) => ({ current_password: value }),
};

const ProofMethodsContext = createContext<readonly ProofMethod[]>([passwordProof]);

/** Every proof method, in the order they are preferred: the first one offered is asked first. */
export const ProofMethods = ProofMethodsContext.Provider;

export function useProofMethods(): readonly ProofMethod[] {
  return useContext(ProofMethodsContext);
}

/** Those of `methods` the server `offered` and this browser can use, in `methods`' order. */
export function usable(methods: readonly ProofMethod[], offered: readonly ConfirmMethod[]): ProofMethod[] {
  return methods.filter((method) => offered.includes(method.method) && (method.kind === "text" || method.available()));
}
