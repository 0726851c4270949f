import { describe, expect, it } from "vitest";

import { firstMethod } from "./ProofForm";

describe("second factors on screen", () => {
  it("the proof asked first: password, then the app, then a passkey, recovery codes last", () => {
    expect(firstMethod(["recovery_code", "passkey", "totp", "password"])).toBe("password");
    expect(firstMethod(["recovery_code", "passkey", "totp"])).toBe("totp");
    expect(firstMethod(["recovery_code", "passkey"])).toBe("passkey");
    expect(firstMethod(["recovery_code", "passkey"], false)).toBe("recovery_code");
    expect(firstMethod(["passkey"], false)).toBeNull();
  });
});
