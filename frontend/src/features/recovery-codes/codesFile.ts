/** The recovery codes as a file people keep. */

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
