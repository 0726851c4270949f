/** Turn an API error body into a sentence a person can act on. The API's own reasons win. */

const CODES: Record<string, string> = {
  LOGIN_BAD_CREDENTIALS: "Wrong email or password.",
  LOGIN_USER_NOT_VERIFIED: "Verify your email address first: open the link we sent you.",
  REGISTER_USER_ALREADY_EXISTS: "An account with this email address already exists.",
  RESET_PASSWORD_BAD_TOKEN: "This reset link is invalid, used or expired. Ask for a new one.",
  VERIFY_USER_BAD_TOKEN: "This verification link is invalid or expired. Ask for a new one.",
  SIGN_IN_LINK_INVALID: "This sign-in link has expired or was already used. Ask for a new one.",
  VERIFY_USER_ALREADY_VERIFIED: "Your email address is already verified.",
  UPDATE_USER_EMAIL_ALREADY_EXISTS: "Another account already uses this email address.",
  REFRESH_TOKEN_INVALID: "Please sign in.",
  SESSION_ENDED: "Your session has ended. Please sign in again.",
  // Issue 12's routes send a reason with each code; these are for a body without one.
  MFA_CODE_INVALID: "That code is wrong or was used already.",
  MFA_TICKET_INVALID: "This sign-in has expired. Please sign in again.",
  CONFIRMATION_REQUIRED: "Confirm it's you first.",
  CONFIRMATION_INVALID: "That did not confirm it's you. Check it and try again.",
  PASSKEY_INVALID: "That passkey is not (or no longer) registered for an account here.",
  PASSKEYS_UNAVAILABLE: "Passkeys are not available on this server.",
  // Issue 13: email change and deletion (their routes send reasons too).
  EMAIL_CHANGE_INVALID: "This link has expired, was used already, or a newer request replaced it.",
  EMAIL_TAKEN: "Another account already uses this email address.",
  EMAIL_UNCHANGED: "That is already your address.",
  LAST_SUPERUSER: "You are the last superuser: make someone else a superuser first.",
  TOO_MANY_REQUESTS: "Too many attempts. Wait a little, then try again.",
  // Issue 17: who may be in an account before its address is confirmed (reasons come too).
  VERIFICATION_REQUIRED: "Confirm your email address first: open the link we sent you.",
  ACCOUNT_PROOF_REQUIRED: "Enter the account's password, or open the link where you are signed in to it.",
  ACCOUNT_PROOF_INVALID: "That is not the password of this account.",
  DECLINE_INVALID: "This link has expired, or the account's address was confirmed: nothing was deleted.",
  Unauthorized: "Please sign in again.",
  Forbidden: "You are not allowed to do that.",
};

type ValidationItem = { loc?: Array<string | number>; msg?: string };

/** What to say when a request got no answer at all (offline, the server down). */
export const UNREACHABLE = "The server could not be reached. Check your connection and try again.";

export function errorMessage(error: unknown, fallback = "Something went wrong. Please try again."): string {
  const detail = (error as { detail?: unknown } | null | undefined)?.detail;
  if (typeof detail === "string") {
    return CODES[detail] ?? detail;
  }
  if (detail && typeof detail === "object" && !Array.isArray(detail)) {
    const { reason, code } = detail as { reason?: unknown; code?: unknown };
    if (typeof reason === "string") return reason;
    if (typeof code === "string") return CODES[code] ?? code;
  }
  if (Array.isArray(detail)) {
    return Object.entries(fieldErrors(error))
      .map(([field, message]) => (field ? `${FIELD_NAMES[field] ?? "This value"}: ${message}` : message))
      .join(" ");
  }
  return fallback;
}

/** What people call the fields of request bodies, for a message about one of them. */
const FIELD_NAMES: Record<string, string> = {
  name: "The name",
  email: "The email address",
  username: "The email address",
  password: "The password",
  current_password: "Your current password",
  new_email: "The new address",
  code: "The code",
};

/** Pydantic's and FastAPI's sentences (for developers) in the words of a person. */
function plainWords(message: string): string {
  const text = message.replace(/^Value error, /, "");
  let match: RegExpMatchArray | null;
  if (/^Field required$/.test(text)) return "This is required.";
  if ((match = text.match(/^String should have at least (\d+) characters?$/))) {
    return match[1] === "1" ? "This cannot be empty." : `Use at least ${match[1]} characters.`;
  }
  if ((match = text.match(/^String should have at most (\d+) characters?$/))) return `Use at most ${match[1]} characters.`;
  if (/not a valid email address/i.test(text)) return "Type an email address, such as name@example.com.";
  if (/^Input should be a valid/.test(text)) return "This value is not of the right kind.";
  return /[.!?]$/.test(text) ? text : `${text[0]?.toUpperCase() ?? ""}${text.slice(1)}.`;
}

/**
 * A validation error (422) as a message per field of the body ("" for the body as a whole),
 * in plain words, for showing each message by its field.
 */
export function fieldErrors(error: unknown): Record<string, string> {
  const detail = (error as { detail?: unknown } | null | undefined)?.detail;
  if (!Array.isArray(detail)) return {};
  const found: Record<string, string> = {};
  for (const item of detail as ValidationItem[]) {
    const field = String(item.loc?.filter((part) => part !== "body" && part !== "query").at(-1) ?? "");
    found[field] ??= plainWords(item.msg ?? "is invalid");
  }
  return found;
}
