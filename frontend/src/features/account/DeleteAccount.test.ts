import { describe, expect, it } from "vitest";

import { deletionTyped } from "./DeleteAccount";

describe("deleting the account", () => {
  it("is unlocked by the address (any case) or the word DELETE", () => {
    expect(deletionTyped("Me@Example.com ", "me@example.com")).toBe(true);
    expect(deletionTyped("DELETE", "me@example.com")).toBe(true);
    expect(deletionTyped("delete", "me@example.com")).toBe(false);
    expect(deletionTyped("me@example", "me@example.com")).toBe(false);
    expect(deletionTyped("", "")).toBe(false);
  });
});
