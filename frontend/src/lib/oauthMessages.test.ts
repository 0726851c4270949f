import { describe, expect, it } from "vitest";

import { linkReturn, oauthErrorMessage, worthRetrying } from "./oauthMessages";
import { authorizeUrl, providerLabel } from "./providers";

describe("oauthErrorMessage", () => {
  it.each([
    ["ACCESS_DENIED", "You cancelled signing in with Corp ID."],
    ["STATE_INVALID", "This sign-in attempt expired or was started in another browser. Try again."],
    [
      "ACCOUNT_EXISTS",
      "An account with this email address already exists, and Corp ID does not vouch that the address is yours. Log in with your password (or reset it from the mail), then link Corp ID from your account page.",
    ],
    [
      "LINK_FROM_ACCOUNT_PAGE",
      "An account with this email address already exists. Log in to it the way you did before, then link Corp ID from your account page.",
    ],
    ["PROVIDER_UNAVAILABLE", "Corp ID cannot be reached right now. Try again in a moment."],
  ])("%s", (code, expected) => {
    expect(oauthErrorMessage(code, "Corp ID")).toBe(expected);
  });

  it("has a sentence of its own for every code the backend sends", () => {
    const generic = oauthErrorMessage("SOMETHING_NEW", "Corp ID");
    for (const code of [
      "ACCESS_DENIED",
      "STATE_INVALID",
      "ACCOUNT_EXISTS",
      "LINK_FROM_ACCOUNT_PAGE",
      "ACCOUNT_INACTIVE",
      "EMAIL_REQUIRED",
      "PROVIDER_UNAVAILABLE",
      "PROVIDER_REFUSED_CODE",
      "ID_TOKEN_INVALID",
      "PROVIDER_ERROR",
      "LOGIN_USER_NOT_VERIFIED",
      "PROVIDER_ACCOUNT_IN_USE",
      "VERIFICATION_REQUIRED",
    ]) {
      const message = oauthErrorMessage(code, "Corp ID");
      expect(message, code).not.toBe(generic);
      expect(message, code).not.toContain(code);
    }
  });

  it("speaks of linking on the account page", () => {
    expect(oauthErrorMessage("ACCESS_DENIED", "Corp ID", "link")).toBe("You cancelled linking Corp ID.");
    expect(oauthErrorMessage("STATE_INVALID", "Corp ID", "link")).toMatch(/^This linking attempt expired/);
    expect(oauthErrorMessage("PROVIDER_ACCOUNT_IN_USE", "Corp ID", "link")).toContain("already linked to another account");
  });

  it("falls back to a general sentence for unknown, missing or inherited codes", () => {
    expect(oauthErrorMessage("NOPE", "Corp ID")).toBe("Signing in with Corp ID did not work. Try again.");
    expect(oauthErrorMessage(null, "Corp ID")).toBe("Signing in with Corp ID did not work. Try again.");
    expect(oauthErrorMessage("toString", "Corp ID")).toBe("Signing in with Corp ID did not work. Try again.");
    expect(oauthErrorMessage("NOPE", "Corp ID", "link")).toBe("Linking Corp ID did not work. Try again.");
  });
});

describe("worthRetrying", () => {
  it("offers another try only where one can help", () => {
    expect(worthRetrying("ACCESS_DENIED")).toBe(true);
    expect(worthRetrying("PROVIDER_UNAVAILABLE")).toBe(true);
    expect(worthRetrying("NOPE")).toBe(true);
    expect(worthRetrying("ACCOUNT_EXISTS")).toBe(false);
    expect(worthRetrying("ACCOUNT_INACTIVE")).toBe(false);
  });
});

describe("providerLabel", () => {
  const providers = [{ name: "corp", label: "Corp ID" }];
  it("uses the configured label", () => {
    expect(providerLabel(providers, "corp")).toBe("Corp ID");
  });
  it("falls back to a name that looks like one, and never echoes other text", () => {
    expect(providerLabel(providers, "gitlab")).toBe("gitlab");
    expect(providerLabel(null, "corp")).toBe("corp");
    expect(providerLabel(providers, "Call +1 555 0100 to restore your account")).toBe("the provider");
    expect(providerLabel(providers, null)).toBe("the provider");
  });
});

describe("authorizeUrl", () => {
  it("is the backend's route for the provider, escaped", () => {
    expect(authorizeUrl("corp")).toBe("/auth/oauth/corp/authorize");
    expect(authorizeUrl("a/b")).toBe("/auth/oauth/a%2Fb/authorize");
  });
});

describe("linkReturn", () => {
  it("reads how a link flow came back", () => {
    expect(linkReturn(new URLSearchParams("linked=corp"))).toEqual({ ok: true, name: "corp" });
    expect(linkReturn(new URLSearchParams("link_error=ACCESS_DENIED&provider=corp"))).toEqual({
      ok: false,
      code: "ACCESS_DENIED",
      name: "corp",
    });
    expect(linkReturn(new URLSearchParams("tab=2"))).toBeNull();
  });
});
