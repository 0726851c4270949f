/**
 * What the account page's sections about second factors share (the authenticator app, passkeys,
 * recovery codes): the app's route (app/routes/SecondFactors.tsx) holds the status and gives each
 * section these props, so the sections, each its own feature, never import one another.
 */
import type { MfaStatus } from "./api/secondFactors";

/** What the account sections about second factors share: the status, and codes to show once. */
export interface FactorsProps {
  status: MfaStatus;
  /** The server answered the new status (say, after turning TOTP off). */
  onStatus: (status: MfaStatus) => void;
  /** Ask the server for the status again. */
  reload: () => Promise<void>;
  /** New recovery codes to show, once. */
  onCodes: (codes: string[]) => void;
}

/** "Your 2 other sessions were signed out." after a change that ended them; "" for none. */
export function signedOutText(sessions: number): string {
  if (sessions <= 0) return "";
  return sessions === 1 ? "Your other session was signed out." : `Your ${sessions} other sessions were signed out.`;
}
