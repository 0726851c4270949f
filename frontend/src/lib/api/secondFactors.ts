/**
 * Second factors and step-up confirmation, over the typed client: what the second step of
 * signing in, "confirm it's you" and the factor features share. (Each factor's own routes are
 * its feature's: features/totp/api.ts, features/recovery-codes/api.ts, features/passkeys/api.ts.)
 */
import type { AuthenticationResponseJSON } from "@simplewebauthn/browser";

import { api } from "./client";
import type { components } from "./schema";

type Schemas = components["schemas"];

export type MfaStatus = Schemas["MfaStatus"];
/** Ways to finish a sign-in after the first step (password, emailed link, provider). */
export type SecondStepMethod = MfaStatus["methods"][number];
/** Ways to confirm it's you before a sensitive change. */
export type ConfirmMethod = Schemas["ConfirmationRequired"]["methods"][number];

/** Exactly one proof: for POST /auth/confirm (any) and /auth/mfa/verify (not the password). */
export type Proof =
  | { current_password: string }
  | { code: string }
  | { recovery_code: string }
  | { passkey: AuthenticationResponseJSON };

export const secondFactors = {
  status: () => api.GET("/auth/mfa"),
  verify: (ticket: string, proof: Proof) => api.POST("/auth/mfa/verify", { body: { ticket, ...proof } }),
  confirm: (proof: Proof) => api.POST("/auth/confirm", { body: proof }),
};

/** Superusers: a locked-out person's second factors. */
export const adminSecondFactors = {
  status: (id: string) => api.GET("/users/{id}/second-factors", { params: { path: { id } } }),
  reset: (id: string) => api.DELETE("/users/{id}/second-factors", { params: { path: { id } } }),
};
