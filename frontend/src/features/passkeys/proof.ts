import type { CeremonyProof } from "../../lib/proofs";
import { passkeys } from "./api";
import { passkeyAssertion, supportsPasskeys } from "./webauthn";

/** A passkey's assertion, as a proof (lib/proofs.tsx): for a second step, or to confirm it's you. */
export const passkeyProof: CeremonyProof = {
  method: "passkey",
  switchLabel: "Use a passkey",
  kind: "ceremony",
  available: supportsPasskeys,
  unavailable: "This browser cannot use passkeys",
  intro: "Use the passkey saved on this device, on your phone, or on a security key.",
  button: "Use a passkey",
  busyLabel: "Waiting for your passkey…",
  async prove(purpose) {
    const outcome = await passkeyAssertion(() => passkeys.options(purpose));
    return outcome.ok ? { ok: true, proof: { passkey: outcome.credential } } : outcome;
  },
};
