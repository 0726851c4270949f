/** The authenticator app's secret and codes as people read and type them. */

/** A TOTP secret in groups of four, for typing into an app: "JBSW Y3DP EHPK 3PXP". */
export function groupSecret(secret: string, size = 4): string {
  const plain = secret.replace(/\s+/g, "").toUpperCase();
  return plain.match(new RegExp(`.{1,${size}}`, "g"))?.join(" ") ?? "";
}

/** What a person typed as an authenticator code, without the spaces or dashes some apps show. */
export function normalizeCode(typed: string): string {
  return typed.replace(/[\s-]+/g, "");
}
