import type { TextProof } from "../../lib/proofs";

/** One of the saved recovery codes, as a proof (lib/proofs.tsx). */
export const recoveryCodeProof: TextProof = {
  method: "recovery_code",
  switchLabel: "Use a recovery code",
  kind: "text",
  field: {
    label: "Recovery code",
    type: "text",
    autoComplete: "off",
    autoCapitalize: "none",
    spellCheck: false,
    maxLength: 64,
    hint: "One of the codes you saved when you turned on two-step sign-in. Each works once.",
  },
  proof: (value) => ({ recovery_code: value.trim() }),
};
