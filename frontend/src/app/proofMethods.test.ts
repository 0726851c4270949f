import { describe, expect, it } from "vitest";

import { firstMethod } from "../components/ProofForm";
import { PROOF_METHODS } from "./proofMethods";

const names = (offered: Parameters<typeof firstMethod>[1], passkeysWork = true) => {
  const methods = PROOF_METHODS.map((method) =>
    method.kind === "ceremony" ? { ...method, available: () => passkeysWork } : method,
  );
  return firstMethod(methods, offered)?.method ?? null;
};

describe("the proofs on screen", () => {
  it("asks first for the password, then the app, then a passkey, recovery codes last", () => {
    expect(names(["recovery_code", "passkey", "totp", "password"])).toBe("password");
    expect(names(["recovery_code", "passkey", "totp"])).toBe("totp");
    expect(names(["recovery_code", "passkey"])).toBe("passkey");
    expect(names(["recovery_code", "passkey"], false)).toBe("recovery_code");
    expect(names(["passkey"], false)).toBeNull();
  });

  it("turns what is typed into the API's proof", () => {
    const typed = (name: string, value: string) => {
      const method = PROOF_METHODS.find((each) => each.method === name);
      return method?.kind === "text" ? method.proof(value) : null;
    };
    expect(typed("password", " pass word ")).toEqual({ current_password: " pass word " });
    expect(typed("totp", "123 456")).toEqual({ code: "123456" });
    expect(typed("recovery_code", "  abcd-efgh  ")).toEqual({ recovery_code: "abcd-efgh" });
  });
});
