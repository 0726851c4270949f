import type { AuthenticationResponseJSON, PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/browser";
import { describe, expect, it, vi } from "vitest";

import { passkeyFromAutofill } from "./autofill";

const OPTIONS = { challenge: "Y2hhbGxlbmdl", rpId: "localhost", allowCredentials: [] } as PublicKeyCredentialRequestOptionsJSON;
const CREDENTIAL = { id: "cred" } as unknown as AuthenticationResponseJSON;

describe("passkeys in the email field's autofill", () => {
  it("asks nothing of the server in a browser without conditional mediation", async () => {
    const options = vi.fn(async () => ({ data: OPTIONS }));
    const start = vi.fn(async () => CREDENTIAL);
    expect(await passkeyFromAutofill(options, { supported: async () => false, start })).toBeNull();
    expect(options).not.toHaveBeenCalled();
    expect(start).not.toHaveBeenCalled();
  });

  it("waits for the passkey picked from the suggestions", async () => {
    const start = vi.fn(async () => CREDENTIAL);
    expect(await passkeyFromAutofill(async () => ({ data: OPTIONS }), { supported: async () => true, start })).toBe(CREDENTIAL);
    expect(start).toHaveBeenCalledWith(OPTIONS);
  });

  it("gives up quietly when cancelled, refused or offered no options", async () => {
    const aborted = Object.assign(new Error("cancelled"), { name: "AbortError" });
    const supported = async () => true;
    expect(await passkeyFromAutofill(async () => ({ data: OPTIONS }), { supported, start: async () => Promise.reject(aborted) })).toBeNull();
    expect(await passkeyFromAutofill(async () => ({ error: { detail: "PASSKEYS_UNAVAILABLE" } }), { supported, start: vi.fn() })).toBeNull();
    expect(await passkeyFromAutofill(async () => Promise.reject(new Error("offline")), { supported, start: vi.fn() })).toBeNull();
  });
});
