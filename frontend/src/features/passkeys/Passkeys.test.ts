import { describe, expect, it } from "vitest";

import { defaultPasskeyName } from "./Passkeys";

describe("second factors on screen", () => {
  it("a new passkey is named after the device, within 64 characters", () => {
    const android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36";
    expect(defaultPasskeyName(android)).toBe("Passkey on Chrome on Android");
    expect(defaultPasskeyName("")).toBe("Passkey on Unknown device");
    expect(defaultPasskeyName("x".repeat(200)).length).toBeLessThanOrEqual(64);
  });
});
