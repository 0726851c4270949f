/**
 * Passkeys offered in the email field's autofill (WebAuthn conditional mediation): the login
 * page asks the browser, quietly, for any passkey of this site; a person who picks one from the
 * field's suggestions is signed in. Browsers without it get nothing, and the email field works
 * as before. The field says `autocomplete="username webauthn"` (features/sign-in/LoginPage).
 */
import { browserSupportsWebAuthnAutofill, startAuthentication, WebAuthnAbortService } from "@simplewebauthn/browser";
import type { AuthenticationResponseJSON, PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/browser";

export interface AutofillDeps {
  supported: () => Promise<boolean>;
  options: () => Promise<{ data?: PublicKeyCredentialRequestOptionsJSON; error?: unknown }>;
  start: (optionsJSON: PublicKeyCredentialRequestOptionsJSON) => Promise<AuthenticationResponseJSON>;
}

const browser = {
  supported: browserSupportsWebAuthnAutofill,
  start: (optionsJSON: PublicKeyCredentialRequestOptionsJSON) => startAuthentication({ optionsJSON, useBrowserAutofill: true }),
};

/**
 * Wait for a passkey chosen from autofill: its credential, or null when there is none to wait
 * for (no support, no options, the wait was cancelled — by the passkey button's own ceremony,
 * or by leaving the page — or the browser refused).
 */
export async function passkeyFromAutofill(
  options: AutofillDeps["options"],
  deps: Pick<AutofillDeps, "supported" | "start"> = browser,
): Promise<AuthenticationResponseJSON | null> {
  try {
    if (!(await deps.supported())) return null;
    const { data } = await options();
    if (!data) return null;
    return await deps.start(data);
  } catch {
    return null; // AbortError when cancelled, NotAllowedError when refused: nothing to say
  }
}

/** Stop waiting (the page is left). */
export function stopAutofill(): void {
  WebAuthnAbortService.cancelCeremony();
}
