/**
 * The browser half of passkeys (@simplewebauthn/browser): ask the server for options, let the
 * browser talk to the authenticator, hand back what the server verifies. Failures become
 * sentences; a person closing the browser's prompt is not an error.
 */
import { browserSupportsWebAuthn, startAuthentication, startRegistration } from "@simplewebauthn/browser";
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from "@simplewebauthn/browser";

import { errorMessage, UNREACHABLE } from "../../lib/api/errors";
import { CANCELLED } from "../../lib/confirmation";

export type Ceremony = "sign-in" | "register";

/**
 * What came of a ceremony: the credential, or what to tell the person (null: nothing), with the
 * API's error when the server refused the options.
 */
export type CeremonyOutcome<T> =
  | { ok: true; credential: T }
  | { ok: false; kind: "error" | "info"; message: string | null; error?: unknown };

type Options<T> = () => Promise<{ data?: T; error?: unknown }>;

/** Whether this browser can use passkeys at all (no button otherwise). */
export function supportsPasskeys(): boolean {
  try {
    return browserSupportsWebAuthn();
  } catch {
    return false;
  }
}

/** What to say when the browser's WebAuthn call failed. */
export function ceremonyFailure(
  error: unknown,
  ceremony: Ceremony,
  rpId?: string,
  here: { hostname: string; host: string; protocol: string } = window.location,
): { kind: "error" | "info"; message: string } {
  const name = error instanceof Error ? error.name : "";
  if (name === "NotAllowedError" || name === "AbortError") {
    return {
      kind: "info",
      message:
        ceremony === "register"
          ? "No passkey was added: the prompt was closed or timed out. Try again when you are ready."
          : "The passkey prompt was closed or timed out. Try again, or choose another way.",
    };
  }
  if (name === "InvalidStateError" && ceremony === "register") {
    return { kind: "error", message: "This authenticator already holds a passkey for this account." };
  }
  if (name === "SecurityError") {
    // Passkeys belong to the server's host name (PUBLIC_URL); browsers refuse them at any other
    // address of the same server, such as 127.0.0.1 for localhost.
    if (rpId && rpId !== here.hostname) {
      const port = here.host.includes(":") ? `:${here.host.split(":").pop()}` : "";
      return {
        kind: "error",
        message: `Passkeys for this app work at ${rpId}, not at ${here.hostname}: open ${here.protocol}//${rpId}${port} instead.`,
      };
    }
    return { kind: "error", message: "This browser does not allow passkeys on this site's address." };
  }
  if (name === "NotSupportedError") {
    return { kind: "error", message: "This device has no authenticator that can hold a passkey for this site." };
  }
  return {
    kind: "error",
    message:
      ceremony === "register"
        ? "Your browser could not create a passkey. Try again, or use another authenticator."
        : "Your browser could not use a passkey. Try again, or choose another way.",
  };
}

/** The relying-party id the options name (`rp.id` to register, `rpId` to sign in). */
function relyingPartyId(options: unknown): string | undefined {
  const o = options as { rp?: { id?: unknown }; rpId?: unknown } | undefined;
  const id = o?.rp?.id ?? o?.rpId;
  return typeof id === "string" ? id : undefined;
}

async function ceremony<O, T>(
  options: Options<O>,
  start: (optionsJSON: O) => Promise<T>,
  kind: Ceremony,
): Promise<CeremonyOutcome<T>> {
  let answer: { data?: O; error?: unknown };
  try {
    answer = await options();
  } catch {
    return { ok: false, kind: "error", message: UNREACHABLE };
  }
  if (answer.error === CANCELLED) return { ok: false, kind: "info", message: null };
  if (answer.error !== undefined || answer.data === undefined) {
    return { ok: false, kind: "error", message: errorMessage(answer.error), error: answer.error };
  }
  try {
    return { ok: true, credential: await start(answer.data) };
  } catch (error) {
    return { ok: false, ...ceremonyFailure(error, kind, relyingPartyId(answer.data)) };
  }
}

/** Prove possession of a passkey: for signing in, a second step, or confirming it's you. */
export function passkeyAssertion(
  options: Options<PublicKeyCredentialRequestOptionsJSON>,
  start: (optionsJSON: PublicKeyCredentialRequestOptionsJSON) => Promise<AuthenticationResponseJSON> = (optionsJSON) =>
    startAuthentication({ optionsJSON }),
): Promise<CeremonyOutcome<AuthenticationResponseJSON>> {
  return ceremony(options, start, "sign-in");
}

/** Create a passkey on an authenticator. */
export function passkeyRegistration(
  options: Options<PublicKeyCredentialCreationOptionsJSON>,
  start: (optionsJSON: PublicKeyCredentialCreationOptionsJSON) => Promise<RegistrationResponseJSON> = (optionsJSON) =>
    startRegistration({ optionsJSON }),
): Promise<CeremonyOutcome<RegistrationResponseJSON>> {
  return ceremony(options, start, "register");
}
