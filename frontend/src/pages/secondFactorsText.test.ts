import { describe, expect, it } from "vitest";

import type { MfaStatus } from "../api/secondFactors";
import { firstMethod } from "../components/ProofForm";
import { describeFactors } from "./AdminSecondFactors";
import { defaultPasskeyName } from "./Passkeys";

const NONE: MfaStatus = {
  totp_enabled: false,
  recovery_codes_left: 0,
  passkeys: 0,
  methods: [],
  passkeys_available: true,
  passkeys_unavailable_reason: null,
};

describe("second factors on screen", () => {
  it("the admin list says what a user has", () => {
    expect(describeFactors(NONE)).toBe("No second factor.");
    expect(
      describeFactors({ ...NONE, totp_enabled: true, passkeys: 2, recovery_codes_left: 7, methods: ["totp", "recovery_code", "passkey"] }),
    ).toBe("Second factors: authenticator app · 2 passkeys · 7 recovery codes left.");
    expect(describeFactors({ ...NONE, passkeys: 1, recovery_codes_left: 1, methods: ["recovery_code", "passkey"] })).toBe(
      "Second factors: 1 passkey · 1 recovery code left.",
    );
  });

  it("a new passkey is named after the device, within 64 characters", () => {
    const android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36";
    expect(defaultPasskeyName(android)).toBe("Passkey on Chrome on Android");
    expect(defaultPasskeyName("")).toBe("Passkey on Unknown device");
    expect(defaultPasskeyName("x".repeat(200)).length).toBeLessThanOrEqual(64);
  });

  it("the proof asked first: password, then the app, then a passkey, recovery codes last", () => {
    expect(firstMethod(["recovery_code", "passkey", "totp", "password"])).toBe("password");
    expect(firstMethod(["recovery_code", "passkey", "totp"])).toBe("totp");
    expect(firstMethod(["recovery_code", "passkey"])).toBe("passkey");
    expect(firstMethod(["recovery_code", "passkey"], false)).toBe("recovery_code");
    expect(firstMethod(["passkey"], false)).toBeNull();
  });
});
