import { describe, expect, it } from "vitest";

import { signedOutText } from "../lib/factors";
import { proofRequired } from "./HolderProof";

describe("a link that asks who holds the account", () => {
  it("reads the server's ACCOUNT_PROOF_REQUIRED", () => {
    const error = {
      detail: {
        code: "ACCOUNT_PROOF_REQUIRED",
        reason: "Enter the password of the account a@b.example to finish.",
        email: "a@b.example",
        methods: ["password", 7],
        can_decline: true,
      },
    };
    expect(proofRequired(error)).toEqual({
      reason: "Enter the password of the account a@b.example to finish.",
      email: "a@b.example",
      methods: ["password"],
      canDecline: true,
    });
  });

  it("says nothing of other refusals, and fills in what a body leaves out", () => {
    expect(proofRequired({ detail: "VERIFY_USER_BAD_TOKEN" })).toBeNull();
    expect(proofRequired({ detail: { code: "ACCOUNT_PROOF_INVALID", reason: "No." } })).toBeNull();
    expect(proofRequired(undefined)).toBeNull();
    expect(proofRequired({ detail: { code: "ACCOUNT_PROOF_REQUIRED" } })).toEqual({
      reason: "Enter the account's password to finish.",
      email: "",
      methods: [],
      canDecline: false,
    });
  });

  it("counts the sessions a new factor signed out", () => {
    expect(signedOutText(0)).toBe("");
    expect(signedOutText(1)).toBe("Your other session was signed out.");
    expect(signedOutText(3)).toBe("Your 3 other sessions were signed out.");
  });
});
