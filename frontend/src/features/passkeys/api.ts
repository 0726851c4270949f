/**
 * The passkey routes (`/auth/passkeys/...`) over the typed client. Their WebAuthn options are
 * JSON the schema leaves open: typed here as what @simplewebauthn/browser takes.
 */
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from "@simplewebauthn/browser";

import { api } from "../../lib/api/client";
import type { components } from "../../lib/api/schema";

export type Passkey = components["schemas"]["PasskeyRead"];
export type PasskeyPurpose = components["schemas"]["OptionsRequest"];

/** What the routes answer, whatever the body's declared type: openapi-fetch's `{ data, error }`. */
type Answer<T> = Promise<{ data?: T; error?: unknown }>;

async function webauthnOptions<T>(call: Answer<unknown>): Answer<T> {
  const { data, error } = await call;
  return error === undefined ? { data: data as T } : { error };
}

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
