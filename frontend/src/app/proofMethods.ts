import { passkeyProof } from "../features/passkeys/proof";
import { recoveryCodeProof } from "../features/recovery-codes/proof";
import { totpProof } from "../features/totp/proof";
import { passwordProof } from "../lib/proofs";
import type { ProofMethod } from "../lib/proofs";

/**
 * Every way to prove it's you, in the order they are asked for: the password, then the app's
 * code, then a passkey; recovery codes last. A new factor's feature adds its `proof.ts` here.
 */
export const PROOF_METHODS: readonly ProofMethod[] = [passwordProof, totpProof, passkeyProof, recoveryCodeProof];
