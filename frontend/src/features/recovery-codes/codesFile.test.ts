import { describe, expect, it } from "vitest";

import { recoveryCodesFileName, recoveryCodesText } from "./codesFile";

describe("the recovery codes as a file to keep", () => {
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
