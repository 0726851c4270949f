/**
 * Second factors, step-up confirmation and passkeys (issue 12), over the typed client. The
 * passkey options are WebAuthn's JSON, which the schema leaves open: typed here as what
 * @simplewebauthn/browser takes.
 */
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from "@simplewebauthn/browser";

import { api } from "./client";
import type { components } from "./schema";

type Schemas = components["schemas"];

export type MfaStatus = Schemas["MfaStatus"];
export type TotpSetup = Schemas["TotpSetup"];
export type Passkey = Schemas["PasskeyRead"];
/** Ways to finish a sign-in after the first step (password, emailed link, provider). */
export type SecondStepMethod = MfaStatus["methods"][number];
/** Ways to confirm it's you before a sensitive change. */
export type ConfirmMethod = Schemas["ConfirmationRequired"]["methods"][number];
export type PasskeyPurpose = Schemas["OptionsRequest"];

/** Exactly one proof: for POST /auth/confirm (any) and /auth/mfa/verify (not the password). */
export type Proof =
  | { current_password: string }
  | { code: string }
  | { recovery_code: string }
  | { passkey: AuthenticationResponseJSON };

/** What the routes answer, whatever the body's declared type: openapi-fetch's `{ data, error }`. */
type Answer<T> = Promise<{ data?: T; error?: unknown }>;

/** The schema leaves WebAuthn's options open; they are what @simplewebauthn/browser takes. */
async function webauthnOptions<T>(call: Answer<unknown>): Answer<T> {
  const { data, error } = await call;
  return error === undefined ? { data: data as T } : { error };
}

export const secondFactors = {
  status: () => api.GET("/auth/mfa"),
  setupTotp: () => api.POST("/auth/mfa/totp/setup"),
  confirmTotp: (code: string) => api.POST("/auth/mfa/totp/confirm", { body: { code } }),
  disableTotp: () => api.DELETE("/auth/mfa/totp"),
  /** Ten new codes; with `endOtherSessions`, my other sessions are signed out too. */
  newRecoveryCodes: (endOtherSessions = true) =>
    api.POST("/auth/mfa/recovery-codes", { body: { end_other_sessions: endOtherSessions } }),
  verify: (ticket: string, proof: Proof) => api.POST("/auth/mfa/verify", { body: { ticket, ...proof } }),
  confirm: (proof: Proof) => api.POST("/auth/confirm", { body: proof }),
};

export const passkeys = {
  options: (purpose: PasskeyPurpose) =>
    webauthnOptions<PublicKeyCredentialRequestOptionsJSON>(api.POST("/auth/passkeys/options", { body: purpose })),
  signIn: (credential: AuthenticationResponseJSON) => api.POST("/auth/passkeys/sign-in", { body: { credential } }),
  list: () => api.GET("/auth/passkeys"),
  registrationOptions: () =>
    webauthnOptions<PublicKeyCredentialCreationOptionsJSON>(api.POST("/auth/passkeys/registration-options")),
  /** The account's first passkey always signs out its other sessions; a later one when asked. */
  add: (name: string, credential: RegistrationResponseJSON, endOtherSessions = true) =>
    api.POST("/auth/passkeys", { body: { name, credential, end_other_sessions: endOtherSessions } }),
  rename: (id: string, name: string) =>
    api.PATCH("/auth/passkeys/{passkey_id}", { params: { path: { passkey_id: id } }, body: { name } }),
  remove: (id: string) => api.DELETE("/auth/passkeys/{passkey_id}", { params: { path: { passkey_id: id } } }),
};

/** Superusers: a locked-out person's second factors. */
export const adminSecondFactors = {
  status: (id: string) => api.GET("/users/{id}/second-factors", { params: { path: { id } } }),
  reset: (id: string) => api.DELETE("/users/{id}/second-factors", { params: { path: { id } } }),
};
