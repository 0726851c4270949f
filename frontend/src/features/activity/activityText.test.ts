import { describe, expect, it } from "vitest";

import { describeActivity, fromNewDevice, needsAttention, providerName } from "./activityText";

const say = (type: string, detail: Record<string, unknown> = {}) => describeActivity({ type, detail }, { corp: "Corp ID" });

describe("security activity as sentences", () => {
  it("says how a sign-in was made, and its second step", () => {
    expect(say("sign_in", { method: "password", second_factor: "totp" })).toBe("Signed in with a password and an authenticator code");
    expect(say("sign_in", { method: "password" })).toBe("Signed in with a password");
    expect(say("sign_in", { method: "passkey" })).toBe("Signed in with a passkey");
    expect(say("sign_in", { method: "sign_in_link", second_factor: "recovery_code" })).toBe(
      "Signed in with an emailed sign-in link and a recovery code",
    );
    expect(say("sign_in", { method: "password", second_factor: "passkey", session_id: "s1" })).toBe(
      "Signed in with a password and a passkey",
    );
    expect(say("sign_in", { method: "provider:corp" })).toBe("Signed in with Corp ID");
    expect(say("sign_in", { method: "provider:github" })).toBe("Signed in with GitHub");
    expect(say("sign_in", { method: "provider:acme" })).toBe("Signed in with acme");
    expect(say("sign_in", { method: "password", second_factor: "carrier_pigeon" })).toBe(
      "Signed in with a password and a second factor",
    );
    expect(say("sign_in")).toBe("Signed in");
    expect(describeActivity({ type: "sign_in", detail: null })).toBe("Signed in");
  });

  it("counts the sign-ins a summary stands for, and names the latest's way in", () => {
    expect(say("sign_in", { method: "password", count: 5, methods: { password: 5 } })).toBe("Signed in 5 times with a password");
    expect(say("sign_in", { method: "password", count: 1, methods: { password: 1 } })).toBe("Signed in with a password");
    expect(
      say("sign_in", { method: "passkey", second_factor: null, count: 3, methods: { password: 2, passkey: 1 } }),
    ).toBe("Signed in 3 times, the latest with a passkey");
    expect(say("sign_in", { method: "password", second_factor: "totp", count: 2 })).toBe(
      "Signed in 2 times with a password and an authenticator code",
    );
    expect(say("sign_in", { count: 4 })).toBe("Signed in 4 times");
    expect(say("sign_in", { method: "password", count: "many" })).toBe("Signed in with a password");
  });

  it("counts failed attempts", () => {
    expect(say("sign_in_failed", { count: 3 })).toBe("3 failed sign-in attempts");
    expect(say("sign_in_failed", { count: 1 })).toBe("1 failed sign-in attempt");
    expect(say("sign_in_failed")).toBe("A failed sign-in attempt");
    expect(say("sign_in_failed", { count: "many" })).toBe("A failed sign-in attempt");
  });

  it("names the sessions, passwords and addresses", () => {
    expect(say("sign_out", { reason: "logout", session_id: "s1" })).toBe("Signed out");
    expect(say("sign_out", { reason: "logged out everywhere", sessions: 3 })).toBe("Signed out everywhere (3 sessions)");
    expect(say("session_ended", { reason: "ended by you", session_id: "s1" })).toBe("A session was ended: ended by you");
    expect(say("session_ended", { reason: "password changed", sessions: 2 })).toBe("2 sessions ended: password changed");
    expect(say("session_ended", { reason: "password reset", sessions: 1 })).toBe("1 session ended: password reset");
    expect(say("session_ended")).toBe("A session was ended");
    expect(say("password_set")).toBe("A password was set");
    expect(say("password_changed")).toBe("Password changed");
    expect(say("password_change_refused", { session_id: "s1" })).toBe(
      "A password change was refused: the current password was wrong",
    );
    expect(say("password_reset")).toBe("Password reset with an emailed link");
    const change = { old_email: "a@x.example", new_email: "b@y.example" };
    expect(say("email_change_requested", change)).toBe("Email change to b@y.example requested");
    expect(say("email_change_confirmed", change)).toBe("Email address changed from a@x.example to b@y.example");
    expect(say("email_change_confirmed", { new_email: "b@y.example" })).toBe("Email address changed to b@y.example");
    expect(say("email_change_cancelled", change)).toBe("Email change to b@y.example cancelled");
    expect(say("email_change_cancelled")).toBe("Email change cancelled");
    expect(say("email_changed_by_admin", change)).toBe("An administrator changed the email address to b@y.example");
  });

  it("names second factors, passkeys and providers", () => {
    expect(say("second_factor_added", { factor: "totp" })).toBe("Authenticator app added as a second factor");
    expect(say("second_factor_removed", { factor: "totp" })).toBe("Authenticator app removed as a second factor");
    expect(say("second_factor_added", { method: "totp" })).toBe("Authenticator app added as a second factor");
    expect(say("second_factor_removed", { method: "passkey" })).toBe("Passkey removed as a second factor");
    expect(say("second_factor_added")).toBe("A second factor was added");
    expect(say("second_factors_reset")).toBe("An administrator reset the second factors");
    expect(say("recovery_codes_regenerated")).toBe("New recovery codes made; the earlier ones no longer work");
    expect(say("passkey_added", { name: "Work laptop" })).toBe("Passkey “Work laptop” added");
    expect(say("passkey_removed", { name: "Phone" })).toBe("Passkey “Phone” removed");
    expect(say("passkey_removed")).toBe("A passkey was removed");
    expect(say("provider_linked", { provider: "corp" })).toBe("Sign-in with Corp ID linked");
    expect(say("provider_unlinked", { provider: "google" })).toBe("Sign-in with Google unlinked");
    expect(say("refresh_token_reused")).toBe("An old session token was used again: the session was ended to be safe");
    expect(say("locked_out")).toBe("Sign-in locked for a while after too many failed attempts");
    expect(say("locked_out", { failures: 10, window_seconds: 900 })).toBe("Sign-in locked for a while after 10 failed attempts");
  });

  it("says how an address was confirmed, and what the confirmation removed", () => {
    expect(say("address_verified", { via: "verification_link" })).toBe("Email address confirmed");
    expect(say("address_verified", { via: "password_reset", removed: ["1 session (signed out)", "1 passkey"] })).toBe(
      "Email address confirmed by resetting the password; removed what was set up before: 1 session (signed out), 1 passkey",
    );
    expect(say("address_verified", { via: "provider:corp", removed: [] })).toBe(
      "Email address confirmed by signing in with Corp ID",
    );
    expect(say("address_verified", { via: "sign_in_link", removed: [3, "the password set before"] })).toBe(
      "Email address confirmed with an emailed sign-in link; removed what was set up before: the password set before",
    );
  });

  it("still says something of a type it does not know", () => {
    expect(say("api_key_created", { name: "ci" })).toBe("Security event: api key created");
    expect(say("")).toBe("Security event");
  });

  it("marks what deserves a second look", () => {
    expect(needsAttention("sign_in_failed")).toBe(true);
    expect(needsAttention("refresh_token_reused")).toBe(true);
    expect(needsAttention("password_change_refused")).toBe(true);
    expect(needsAttention("sign_in")).toBe(false);
    expect(providerName("corp")).toBe("corp");
    expect(fromNewDevice({ type: "sign_in", detail: { method: "password", new_device: true } })).toBe(true);
    expect(fromNewDevice({ type: "sign_in", detail: { method: "password", new_device: false } })).toBe(false);
    expect(fromNewDevice({ type: "sign_in_failed", detail: { new_device: true } })).toBe(false);
  });
});
