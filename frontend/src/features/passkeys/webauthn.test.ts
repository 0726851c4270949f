import type { AuthenticationResponseJSON, PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/browser";
import { describe, expect, it, vi } from "vitest";

import { CANCELLED } from "../../lib/confirmation";
import { UNREACHABLE } from "../../lib/api/errors";
import { ceremonyFailure, passkeyAssertion } from "./webauthn";

const OPTIONS: PublicKeyCredentialRequestOptionsJSON = { challenge: "Y2hhbGxlbmdl", rpId: "localhost", allowCredentials: [] };
const CREDENTIAL = { id: "cred", rawId: "cred", type: "public-key" } as unknown as AuthenticationResponseJSON;

function domError(name: string): Error {
  const error = new Error(`${name} from the browser`);
  error.name = name;
  return error;
}

describe("what a failed passkey ceremony says", () => {
  it("is calm when the person closed the prompt or it timed out", () => {
    expect(ceremonyFailure(domError("NotAllowedError"), "sign-in")).toEqual({
      kind: "info",
      message: "The passkey prompt was closed or timed out. Try again, or choose another way.",
    });
    expect(ceremonyFailure(domError("AbortError"), "register").kind).toBe("info");
  });

  it("says when the authenticator already holds a passkey for this account", () => {
    expect(ceremonyFailure(domError("InvalidStateError"), "register")).toEqual({
      kind: "error",
      message: "This authenticator already holds a passkey for this account.",
    });
  });

  it("names the address to open when the page is at another address of the server", () => {
    const here = { hostname: "127.0.0.1", host: "127.0.0.1:8000", protocol: "http:" };
    expect(ceremonyFailure(domError("SecurityError"), "register", "localhost", here).message).toBe(
      "Passkeys for this app work at localhost, not at 127.0.0.1: open http://localhost:8000 instead.",
    );
    const same = { hostname: "localhost", host: "localhost:8000", protocol: "http:" };
    expect(ceremonyFailure(domError("SecurityError"), "sign-in", "localhost", same).message).toBe(
      "This browser does not allow passkeys on this site's address.",
    );
  });

  it("never shows the browser's own message", () => {
    const { message } = ceremonyFailure(new TypeError("Cannot read properties of undefined"), "sign-in");
    expect(message).not.toContain("Cannot read");
  });
});

describe("passkeyAssertion", () => {
  it("hands the server's options to the browser and answers its credential", async () => {
    const start = vi.fn(async () => CREDENTIAL);
    const outcome = await passkeyAssertion(async () => ({ data: OPTIONS }), start);
    expect(start).toHaveBeenCalledWith(OPTIONS);
    expect(outcome).toEqual({ ok: true, credential: CREDENTIAL });
  });

  it("says what the server said when it offers no options, and hands on its answer", async () => {
    const start = vi.fn(async () => CREDENTIAL);
    const error = { detail: { code: "PASSKEYS_UNAVAILABLE", reason: "Passkeys need a domain name." } };
    const outcome = await passkeyAssertion(async () => ({ error }), start);
    expect(outcome).toEqual({ ok: false, kind: "error", message: "Passkeys need a domain name.", error });
    expect(start).not.toHaveBeenCalled();
  });

  it("says nothing when a confirmation was dismissed", async () => {
    const outcome = await passkeyAssertion(async () => ({ error: CANCELLED }), vi.fn());
    expect(outcome).toEqual({ ok: false, kind: "info", message: null });
  });

  it("turns a cancelled prompt and an unreachable server into sentences", async () => {
    const cancelled = await passkeyAssertion(async () => ({ data: OPTIONS }), async () => {
      throw domError("NotAllowedError");
    });
    expect(cancelled).toMatchObject({ ok: false, kind: "info" });
    const offline = await passkeyAssertion(async () => {
      throw new TypeError("Failed to fetch");
    }, vi.fn());
    expect(offline).toEqual({ ok: false, kind: "error", message: UNREACHABLE });
  });
});
