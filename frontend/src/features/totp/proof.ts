import type { TextProof } from "../../lib/proofs";
import { normalizeCode } from "./codeText";

/** A code from the authenticator app, as a proof (lib/proofs.tsx). */
export const totpProof: TextProof = {
  method: "totp",
  switchLabel: "Use your authenticator app",
  kind: "text",
  field: {
    label: "Authenticator code",
    type: "text",
    inputMode: "numeric",
    autoComplete: "one-time-code",
    maxLength: 9,
    hint: "The 6-digit code your authenticator app shows now.",
  },
  proof: (value) => ({ code: normalizeCode(value) }),
};
