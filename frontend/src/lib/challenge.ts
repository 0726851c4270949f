/**
 * The second step of a sign-in. A first factor (password, emailed link, provider) of an account
 * with a second factor answers 401 MFA_REQUIRED with a one-time ticket and the methods the
 * account has; /sign-in/mfa finishes it. The ticket comes in navigation state from this app's
 * pages, or in the query string when the backend redirects a provider's sign-in there.
 */
import type { ConfirmMethod, SecondStepMethod } from "./api/secondFactors";

export interface MfaChallenge {
  ticket: string;
  methods: SecondStepMethod[];
}

const SECOND_STEP: readonly SecondStepMethod[] = ["totp", "recovery_code", "passkey"];
const CONFIRM: readonly ConfirmMethod[] = ["password", ...SECOND_STEP];
/** When the server did not say which methods: what almost every account with a second factor has. */
const FALLBACK: SecondStepMethod[] = ["totp", "recovery_code"];

/** The `detail` object of an error body, if it has one (newer routes; older ones send a string). */
export function errorDetail(error: unknown): Record<string, unknown> | null {
  const detail = (error as { detail?: unknown } | null | undefined)?.detail;
  return detail && typeof detail === "object" && !Array.isArray(detail) ? (detail as Record<string, unknown>) : null;
}

/** The machine-readable code of an error body: `detail.code`, or a plain string `detail`. */
export function errorCode(error: unknown): string | null {
  const detail = (error as { detail?: unknown } | null | undefined)?.detail;
  if (typeof detail === "string") return detail;
  const code = errorDetail(error)?.code;
  return typeof code === "string" ? code : null;
}

function known<T extends string>(allowed: readonly T[], values: unknown): T[] {
  if (!Array.isArray(values)) return [];
  return allowed.filter((method) => values.includes(method));
}

/** Second-step methods from a list (of the API's) in a stable order; unknown names are dropped. */
export function secondStepMethods(values: unknown): SecondStepMethod[] {
  return known(SECOND_STEP, values);
}

/** Confirmation methods from a list (of the API's) in a stable order; unknown names are dropped. */
export function confirmMethods(values: unknown): ConfirmMethod[] {
  return known(CONFIRM, values);
}

/** `totp,recovery_code,passkey` from a query string. */
export function parseMethods(query: string | null): SecondStepMethod[] {
  const methods = secondStepMethods((query ?? "").split(",").map((part) => part.trim()));
  return methods.length > 0 ? methods : FALLBACK;
}

/** The challenge of a 401 MFA_REQUIRED error body, or null for any other error. */
export function challengeOf(error: unknown): MfaChallenge | null {
  const detail = errorDetail(error);
  if (detail?.code !== "MFA_REQUIRED" || typeof detail.ticket !== "string" || !detail.ticket) return null;
  const methods = secondStepMethods(detail.methods);
  return { ticket: detail.ticket, methods: methods.length > 0 ? methods : FALLBACK };
}

/** A challenge handed over in navigation state ({ challenge }), checked: state is only `unknown`. */
export function challengeFromState(state: unknown): MfaChallenge | null {
  const given = (state as { challenge?: unknown } | null | undefined)?.challenge as Partial<MfaChallenge> | undefined;
  if (!given || typeof given.ticket !== "string" || !given.ticket) return null;
  const methods = secondStepMethods(given.methods);
  return { ticket: given.ticket, methods: methods.length > 0 ? methods : FALLBACK };
}

/** A challenge from `?ticket=...&methods=...` (the backend's redirect after a provider's sign-in). */
export function challengeFromQuery(params: URLSearchParams): MfaChallenge | null {
  const ticket = params.get("ticket");
  return ticket ? { ticket, methods: parseMethods(params.get("methods")) } : null;
}
