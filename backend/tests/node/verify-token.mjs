// Verifies FARM Auth access tokens the way a Node service would: `jose`'s createRemoteJWKSet
// (the JWKS fetched over HTTP, cached, refetched on an unknown kid) and jwtVerify (signature,
// issuer, audience, expiry). Used by backend/tests/auth/test_jwks_clients.py.
//
//   node verify-token.mjs --jwks-uri URL --issuer ISS --audience AUD TOKEN
//       prints the verified payload as JSON and exits 0; a refused token prints
//       `CODE: message` on stderr and exits 1.
//   node verify-token.mjs --jwks-uri URL --issuer ISS --audience AUD [--cooldown-ms N] --stdin
//       one token per line on stdin, one JSON line per token on stdout:
//       {"payload": {...}} or {"error": {"code": ..., "message": ...}}. All tokens share one key
//       set, as in a long-running service (its cache and its refetch cooldown included).
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";

import { createRemoteJWKSet, jwtVerify } from "jose";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    "jwks-uri": { type: "string" },
    issuer: { type: "string" },
    audience: { type: "string" },
    "cooldown-ms": { type: "string" }, // jose's default: 30 s between refetches for an unknown kid
    stdin: { type: "boolean", default: false },
  },
});
for (const name of ["jwks-uri", "issuer", "audience"]) {
  if (!values[name]) {
    console.error(`usage: --${name} is required`);
    process.exit(2);
  }
}

const options = {};
if (values["cooldown-ms"] !== undefined) options.cooldownDuration = Number(values["cooldown-ms"]);
const JWKS = createRemoteJWKSet(new URL(values["jwks-uri"]), options);

async function verify(token) {
  const { payload } = await jwtVerify(token, JWKS, {
    issuer: values.issuer,
    audience: values.audience,
  });
  return payload;
}

const failure = (err) => ({ code: err.code ?? err.name, message: err.message });

if (values.stdin) {
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    let result;
    try {
      result = { payload: await verify(line.trim()) };
    } catch (err) {
      result = { error: failure(err) };
    }
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
} else {
  if (positionals.length !== 1) {
    console.error("usage: give one token (or --stdin)");
    process.exit(2);
  }
  try {
    console.log(JSON.stringify(await verify(positionals[0])));
  } catch (err) {
    const { code, message } = failure(err);
    console.error(`${code}: ${message}`);
    process.exit(1);
  }
}
