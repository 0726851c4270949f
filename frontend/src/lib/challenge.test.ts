import { describe, expect, it } from "vitest";

import { challengeFromQuery, challengeFromState, challengeOf, confirmMethods, errorCode, parseMethods } from "./challenge";

describe("methods from the query string", () => {
  it("keeps the known ones, in a stable order, once each", () => {
    expect(parseMethods("passkey,totp,recovery_code")).toEqual(["totp", "recovery_code", "passkey"]);
    expect(parseMethods(" totp , totp,sms,<script>")).toEqual(["totp"]);
    expect(parseMethods("passkey")).toEqual(["passkey"]);
  });

  it("falls back to an authenticator or recovery code when none is named", () => {
    expect(parseMethods(null)).toEqual(["totp", "recovery_code"]);
    expect(parseMethods("")).toEqual(["totp", "recovery_code"]);
    expect(parseMethods("sms,email")).toEqual(["totp", "recovery_code"]);
  });
});

describe("the challenge of a sign-in", () => {
  const body = { detail: { code: "MFA_REQUIRED", reason: "Enter a code.", ticket: "t1", methods: ["recovery_code", "passkey"] } };

  it("comes from a 401 MFA_REQUIRED body", () => {
    expect(challengeOf(body)).toEqual({ ticket: "t1", methods: ["recovery_code", "passkey"] });
  });

  it("is null for any other error", () => {
    expect(challengeOf({ detail: "LOGIN_BAD_CREDENTIALS" })).toBeNull();
    expect(challengeOf({ detail: { code: "MFA_REQUIRED" } })).toBeNull(); // no ticket
    expect(challengeOf({ detail: { code: "MFA_CODE_INVALID", ticket: "t" } })).toBeNull();
    expect(challengeOf(undefined)).toBeNull();
  });

  it("comes from the redirect's query string", () => {
    const params = new URLSearchParams("ticket=abc&methods=totp,recovery_code,passkey");
    expect(challengeFromQuery(params)).toEqual({ ticket: "abc", methods: ["totp", "recovery_code", "passkey"] });
    expect(challengeFromQuery(new URLSearchParams("methods=totp"))).toBeNull();
  });

  it("comes from navigation state, checked", () => {
    expect(challengeFromState({ challenge: { ticket: "abc", methods: ["passkey", "x"] }, from: "/" })).toEqual({
      ticket: "abc",
      methods: ["passkey"],
    });
    expect(challengeFromState({ challenge: { ticket: "abc" } })).toEqual({ ticket: "abc", methods: ["totp", "recovery_code"] });
    expect(challengeFromState({ challenge: { ticket: 42 } })).toBeNull();
    expect(challengeFromState(null)).toBeNull();
    expect(challengeFromState("ticket")).toBeNull();
  });
});

describe("error codes", () => {
  it("reads detail.code of newer routes and the string detail of older ones", () => {
    expect(errorCode({ detail: { code: "MFA_TICKET_INVALID", reason: "Expired." } })).toBe("MFA_TICKET_INVALID");
    expect(errorCode({ detail: "LOGIN_BAD_CREDENTIALS" })).toBe("LOGIN_BAD_CREDENTIALS");
    expect(errorCode({ detail: [{ msg: "field required" }] })).toBeNull();
    expect(errorCode(null)).toBeNull();
  });

  it("confirmation methods drop unknown names", () => {
    expect(confirmMethods(["passkey", "password", "magic"])).toEqual(["password", "passkey"]);
    expect(confirmMethods("password")).toEqual([]);
  });
});
