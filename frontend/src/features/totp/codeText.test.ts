import { describe, expect, it } from "vitest";

import { groupSecret, normalizeCode } from "./codeText";

describe("the authenticator app's secret and codes as people type them", () => {
  it("groups a TOTP secret in fours for typing", () => {
    expect(groupSecret("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")).toBe("JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP");
    expect(groupSecret("abcdefghij")).toBe("ABCD EFGH IJ");
    expect(groupSecret("")).toBe("");
  });

  it("takes an authenticator code with the spaces or dashes apps show", () => {
    expect(normalizeCode(" 123 456 ")).toBe("123456");
    expect(normalizeCode("123-456")).toBe("123456");
  });
});
