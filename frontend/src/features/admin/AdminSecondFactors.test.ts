import { describe, expect, it } from "vitest";

import type { MfaStatus } from "../../lib/api/secondFactors";
import { describeFactors } from "./AdminSecondFactors";

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
});
