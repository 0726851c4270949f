/**
 * What to tell someone whose sign-in with a provider (or linking one) did not work. The backend
 * sends them to /sign-in/error?code=CODE&provider=NAME, or to /account?link_error=CODE&provider=NAME.
 */

export type OAuthPurpose = "sign-in" | "link";

type Message = (label: string, purpose: OAuthPurpose) => string;

const attempt = (purpose: OAuthPurpose) => (purpose === "link" ? "linking" : "sign-in");

const MESSAGES: Record<string, Message> = {
  ACCESS_DENIED: (label, purpose) =>
    purpose === "link" ? `You cancelled linking ${label}.` : `You cancelled signing in with ${label}.`,
  STATE_INVALID: (_label, purpose) =>
    `This ${attempt(purpose)} attempt expired or was started in another browser. Try again.`,
  ACCOUNT_EXISTS: (label) =>
    `An account with this email address already exists, and ${label} does not vouch that the address is yours. Log in with your password (or reset it from the mail), then link ${label} from your account page.`,
  LINK_FROM_ACCOUNT_PAGE: (label) =>
    `An account with this email address already exists. Log in to it the way you did before, then link ${label} from your account page.`,
  VERIFICATION_REQUIRED: (label) => `Confirm your email address first (open the link we sent you), then link ${label}.`,
  ACCOUNT_INACTIVE: () => "This account is disabled. Contact the administrator if you think this is a mistake.",
  EMAIL_REQUIRED: (label) =>
    `${label} did not tell us your email address, and an account needs one. Allow ${label} to share it, then try again.`,
  PROVIDER_UNAVAILABLE: (label) => `${label} cannot be reached right now. Try again in a moment.`,
  PROVIDER_REFUSED_CODE: (label, purpose) =>
    `${label} did not accept this ${attempt(purpose)} attempt; it may have taken too long. Try again.`,
  ID_TOKEN_INVALID: (label) =>
    `We could not check the answer ${label} sent, so we did not trust it. Try again; if this keeps happening, tell the administrator.`,
  PROVIDER_ERROR: (label) => `${label} reported an error. Try again in a moment.`,
  LOGIN_USER_NOT_VERIFIED: (label) =>
    `Verify your email address first: open the link we sent you, then continue with ${label} again.`,
  PROVIDER_ACCOUNT_IN_USE: (label) =>
    `This ${label} account is already linked to another account here. Unlink it there first, or link a different ${label} account.`,
};

/** A sentence for `code` (any string from a URL: unknown codes get a general one). */
export function oauthErrorMessage(code: string | null, label: string, purpose: OAuthPurpose = "sign-in"): string {
  const message = code !== null && Object.hasOwn(MESSAGES, code) ? MESSAGES[code] : undefined;
  if (message) return message(label, purpose);
  return purpose === "link" ? `Linking ${label} did not work. Try again.` : `Signing in with ${label} did not work. Try again.`;
}

/** Codes after which starting over with the same provider may well work. */
const RETRYABLE = new Set([
  "ACCESS_DENIED",
  "STATE_INVALID",
  "PROVIDER_UNAVAILABLE",
  "PROVIDER_REFUSED_CODE",
  "ID_TOKEN_INVALID",
  "PROVIDER_ERROR",
  "EMAIL_REQUIRED",
]);

export function worthRetrying(code: string | null): boolean {
  return code === null || !Object.hasOwn(MESSAGES, code) || RETRYABLE.has(code);
}

/** How a link flow came back from the provider: /account?linked=NAME or ?link_error=CODE&provider=NAME. */
export type LinkReturn = { ok: true; name: string } | { ok: false; code: string; name: string | null };

/** The query parameters of that return, removed once read. */
export const LINK_RETURN_PARAMS = ["linked", "link_error", "provider"] as const;

export function linkReturn(params: URLSearchParams): LinkReturn | null {
  const linked = params.get("linked");
  if (linked) return { ok: true, name: linked };
  const code = params.get("link_error");
  if (code) return { ok: false, code, name: params.get("provider") };
  return null;
}
