/**
 * The security activity log as sentences: one per event type, with what its `detail` says. Pure,
 * so every type (and one this app does not know yet) is tested. Values in `detail` come from the
 * server and are shown as text only.
 */

/** What the sentence needs of an event (the API's has more: time, IP, device). */
export interface ActivityFact {
  type: string;
  detail?: Record<string, unknown> | null;
}

/** Names of providers ("corp" → "Corp ID"), from the server's provider list when known. */
export type ProviderLabels = Readonly<Record<string, string>>;

const SIGN_IN_METHODS: Record<string, string> = {
  password: "a password",
  passkey: "a passkey",
  sign_in_link: "an emailed sign-in link",
};

const SECOND_STEPS: Record<string, string> = {
  totp: "an authenticator code",
  recovery_code: "a recovery code",
  passkey: "a passkey",
};

const FACTORS: Record<string, string> = {
  totp: "Authenticator app",
  passkey: "Passkey",
  recovery_code: "Recovery codes",
};

const WELL_KNOWN_PROVIDERS: Record<string, string> = { google: "Google", github: "GitHub" };

/** Events a person should look at twice: someone may be trying to get in. */
const ATTENTION = new Set([
  "sign_in_failed",
  "password_change_refused",
  "refresh_token_reused",
  "locked_out",
  "email_changed_by_admin",
  "second_factors_reset",
]);

function text(detail: ActivityFact["detail"], key: string): string | null {
  const value = detail?.[key];
  return typeof value === "string" && value.trim() !== "" ? value : null;
}

function count(detail: ActivityFact["detail"], key: string): number | null {
  const value = detail?.[key];
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? Math.round(value) : null;
}

export function providerName(name: string, labels: ProviderLabels = {}): string {
  return labels[name] ?? WELL_KNOWN_PROVIDERS[name] ?? name;
}

function signInMethod(method: string | null, labels: ProviderLabels): string | null {
  if (method === null) return null;
  if (method.startsWith("provider:")) return providerName(method.slice("provider:".length), labels);
  return SIGN_IN_METHODS[method] ?? method.replace(/_/g, " ");
}

/**
 * A sign-in, or the summary of several from one device and network (`count`, `methods`: how many
 * each way; `method` and `second_factor` are the latest's): "Signed in 5 times with a password",
 * "Signed in 5 times, the latest with a passkey" when they were made in more than one way.
 */
function signIn(detail: ActivityFact["detail"], labels: ProviderLabels): string {
  const method = signInMethod(text(detail, "method"), labels);
  const second = text(detail, "second_factor");
  const secondText = second === null ? null : (SECOND_STEPS[second] ?? "a second factor");
  const how = method === null ? secondText : secondText ? `${method} and ${secondText}` : method;
  const n = count(detail, "count");
  if (n === null || n <= 1) return how ? `Signed in with ${how}` : "Signed in";
  const methods = detail?.methods;
  const ways = methods !== null && typeof methods === "object" ? Object.keys(methods).length : 1;
  const times = `Signed in ${n} times`;
  if (how === null) return times;
  return ways > 1 ? `${times}, the latest with ${how}` : `${times} with ${how}`;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function factor(detail: ActivityFact["detail"], done: string): string {
  const method = text(detail, "factor") ?? text(detail, "method");
  if (method === null) return `A second factor was ${done}`;
  return `${FACTORS[method] ?? method.replace(/_/g, " ")} ${done} as a second factor`;
}

function emailChange(detail: ActivityFact["detail"], done: string): string {
  const to = text(detail, "new_email");
  return to ? `Email change to ${to} ${done}` : `Email change ${done}`;
}

/** "Signed in with a password and an authenticator code", "3 failed sign-in attempts", ... */
export function describeActivity({ type, detail }: ActivityFact, labels: ProviderLabels = {}): string {
  const from = text(detail, "old_email");
  const to = text(detail, "new_email");
  const name = text(detail, "name");
  const provider = text(detail, "provider");
  switch (type) {
    case "sign_in":
      return signIn(detail, labels);
    case "sign_in_failed": {
      const n = count(detail, "count");
      return n === null ? "A failed sign-in attempt" : plural(n, "failed sign-in attempt", "failed sign-in attempts");
    }
    case "sign_out": {
      // One session (logging out), or all of them at once (`sessions`: how many).
      const n = count(detail, "sessions");
      return n === null ? "Signed out" : `Signed out everywhere (${plural(n, "session", "sessions")})`;
    }
    case "session_ended": {
      const reason = text(detail, "reason");
      const n = count(detail, "sessions");
      const what = n === null ? "A session was ended" : `${plural(n, "session", "sessions")} ended`;
      return reason ? `${what}: ${reason}` : what;
    }
    case "password_set":
      return "A password was set";
    case "password_changed":
      return "Password changed";
    case "password_change_refused":
      // Someone signed in asked with a wrong current password: it counts toward the lockout.
      return "A password change was refused: the current password was wrong";
    case "password_reset":
      return "Password reset with an emailed link";
    case "email_change_requested":
      return emailChange(detail, "requested");
    case "email_change_confirmed":
      if (to && from) return `Email address changed from ${from} to ${to}`;
      return to ? `Email address changed to ${to}` : "Email address changed";
    case "email_change_cancelled":
      return emailChange(detail, "cancelled");
    case "email_changed_by_admin":
      return to ? `An administrator changed the email address to ${to}` : "An administrator changed the email address";
    case "second_factor_added":
      return factor(detail, "added");
    case "second_factor_removed":
      return factor(detail, "removed");
    case "second_factors_reset":
      return "An administrator reset the second factors";
    case "recovery_codes_regenerated":
      return "New recovery codes made; the earlier ones no longer work";
    case "passkey_added":
      return name ? `Passkey “${name}” added` : "A passkey was added";
    case "passkey_removed":
      return name ? `Passkey “${name}” removed` : "A passkey was removed";
    case "provider_linked":
      return provider ? `Sign-in with ${providerName(provider, labels)} linked` : "A sign-in provider was linked";
    case "provider_unlinked":
      return provider ? `Sign-in with ${providerName(provider, labels)} unlinked` : "A sign-in provider was unlinked";
    case "refresh_token_reused":
      return "An old session token was used again: the session was ended to be safe";
    case "address_verified": {
      const via = text(detail, "via");
      const removed = Array.isArray(detail?.removed)
        ? detail.removed.filter((item): item is string => typeof item === "string")
        : [];
      const how =
        via === null || via === "verification_link"
          ? ""
          : via === "password_reset"
            ? " by resetting the password"
            : via === "sign_in_link"
              ? " with an emailed sign-in link"
              : ` by signing in with ${signInMethod(via, labels)}`;
      const gone = removed.length > 0 ? `; removed what was set up before: ${removed.join(", ")}` : "";
      return `Email address confirmed${how}${gone}`;
    }
    case "locked_out": {
      const n = count(detail, "failures");
      return `Sign-in locked for a while after ${n === null ? "too many" : n} failed attempts`;
    }
    default: {
      const words = type.replace(/[_:]+/g, " ").trim();
      return words ? `Security event: ${words}` : "Security event";
    }
  }
}

/** A sign-in from a device and network the account had not signed in from lately (it was mailed). */
export function fromNewDevice({ type, detail }: ActivityFact): boolean {
  return type === "sign_in" && detail?.new_device === true;
}

/** Worth a second look (failed attempts, token reuse, lock-out, changes by an administrator). */
export function needsAttention(type: string): boolean {
  return ATTENTION.has(type);
}
