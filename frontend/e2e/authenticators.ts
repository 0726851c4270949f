import { createHmac } from "node:crypto";

import type { CDPSession, Page } from "@playwright/test";

/** RFC 4648 base32 (what authenticator apps are given), ignoring spaces and padding. */
function base32Decode(text: string): Buffer {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const char of text.replace(/[\s=]/g, "").toUpperCase()) {
    const value = alphabet.indexOf(char);
    if (value < 0) throw new Error(`not base32: ${char}`);
    bits += value.toString(2).padStart(5, "0");
  }
  const bytes = bits.match(/.{8}/g) ?? [];
  return Buffer.from(bytes.map((byte) => parseInt(byte, 2)));
}

/**
 * The code an authenticator app shows for `secret` (RFC 6238: HMAC-SHA1, 30-second steps, 6
 * digits), `offsetSteps` steps from now: the e2e tests play the phone.
 */
export function totpCode(secret: string, offsetSteps = 0): string {
  const step = Math.floor(Date.now() / 1000 / 30) + offsetSteps;
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac("sha1", base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return value.toString().padStart(6, "0");
}

/**
 * Chrome's virtual authenticator (DevTools protocol, WebAuthn domain) in `page`'s browser: a
 * platform authenticator with resident keys and user verification that says yes at once, as a
 * phone's fingerprint reader would.
 *
 * It says yes at once to the login page's quiet autofill request too (a person would pick the
 * passkey from the email field's suggestions): unless `autofill`, the page is a browser without
 * conditional mediation, so the tests that log in with a password keep doing so.
 */
export async function addVirtualAuthenticator(
  page: Page,
  { autofill = false }: { autofill?: boolean } = {},
): Promise<{ cdp: CDPSession; id: string }> {
  if (!autofill) await withoutPasskeyAutofill(page);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, id: authenticatorId };
}

/** How many passkeys the virtual authenticator holds. */
export async function heldCredentials(auth: { cdp: CDPSession; id: string }): Promise<number> {
  const { credentials } = await auth.cdp.send("WebAuthn.getCredentials", { authenticatorId: auth.id });
  return credentials.length;
}

/** The page as a browser without WebAuthn conditional mediation (no passkeys in autofill). */
export async function withoutPasskeyAutofill(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const credential = window.PublicKeyCredential as unknown as { isConditionalMediationAvailable?: () => Promise<boolean> };
    if (credential) credential.isConditionalMediationAvailable = async () => false;
  });
}
