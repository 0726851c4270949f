/** Second-factor secrets as people read, type and keep them. */

/** A TOTP secret in groups of four, for typing into an app: "JBSW Y3DP EHPK 3PXP". */
export function groupSecret(secret: string, size = 4): string {
  const plain = secret.replace(/\s+/g, "").toUpperCase();
  return plain.match(new RegExp(`.{1,${size}}`, "g"))?.join(" ") ?? "";
}

/** What a person typed as an authenticator code, without the spaces or dashes some apps show. */
export function normalizeCode(typed: string): string {
  return typed.replace(/[\s-]+/g, "");
}

/** The recovery codes as a text file to keep. */
export function recoveryCodesText(codes: readonly string[], account: string, made: Date): string {
  const lines = [
    `FARM Auth recovery codes for ${account}`,
    `Made on ${made.toISOString().slice(0, 10)}.`,
    "",
    "Each code works once, to sign in when you cannot use your authenticator app or passkey.",
    "Keep them somewhere safe. Making new codes stops these from working.",
    "",
    ...codes,
    "",
  ];
  return lines.join("\n");
}

/** A file name for them. */
export function recoveryCodesFileName(made: Date): string {
  return `farm-auth-recovery-codes-${made.toISOString().slice(0, 10)}.txt`;
}
