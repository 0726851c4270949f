import { describe, expect, it } from "vitest";

import { groupSecret, normalizeCode, recoveryCodesFileName, recoveryCodesText } from "./secretText";

describe("what people type and keep", () => {
  it("groups a TOTP secret in fours for typing", () => {
    expect(groupSecret("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")).toBe("JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP");
    expect(groupSecret("abcdefghij")).toBe("ABCD EFGH IJ");
    expect(groupSecret("")).toBe("");
  });

  it("takes an authenticator code with the spaces or dashes apps show", () => {
    expect(normalizeCode(" 123 456 ")).toBe("123456");
    expect(normalizeCode("123-456")).toBe("123456");
  });

  it("writes the recovery codes as a file to keep: who, when, how to use them, one code a line", () => {
    const made = new Date(Date.UTC(2026, 10, 23, 12));
    const codes = ["abcd-efgh-jkmn-pqrs-tuvw-xyz2", "2345-6789-abcd-efgh-jkmn-pqrs"];
    const text = recoveryCodesText(codes, "alice@example.com", made);
    const lines = text.split("\n");

    expect(lines[0]).toBe("FARM Auth recovery codes for alice@example.com");
    expect(lines[1]).toBe("Made on 2026-11-23.");
    expect(text).toContain("Each code works once");
    expect(text).toContain("Making new codes stops these from working.");
    expect(lines.slice(-3)).toEqual([...codes, ""]);
    expect(recoveryCodesFileName(made)).toBe("farm-auth-recovery-codes-2026-11-23.txt");
  });
});
