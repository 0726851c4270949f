// A local OpenID Connect provider for development and tests: DEV-ONLY, never expose it.
//
// It is panva's `oidc-provider` (a certified OP) with one registered client, a JSON file of
// accounts with plain-text passwords, fixed cookie keys and a signing key made at each start.
// The login and consent pages are this file's own: email + password checked against the
// accounts file, then a consent step that can be allowed or denied (denial sends the browser
// back to the client with `error=access_denied`).
//
// Run it with `make idp` (or `node tools/oidc-provider/server.mjs` after
// `npm ci --prefix tools/oidc-provider`). Configuration, all by environment variables:
//
//   IDP_PORT           port to listen on (default 9400)
//   IDP_HOST           address to listen on (default 127.0.0.1)
//   IDP_ISSUER         issuer identifier, no path, no trailing slash
//                      (default http://127.0.0.1:$IDP_PORT)
//   IDP_CLIENT_ID      the registered client's id (default farm-auth-local)
//   IDP_CLIENT_SECRET  its secret (default farm-auth-local-dev-secret), accepted as
//                      client_secret_basic or client_secret_post
//   IDP_REDIRECT_URIS  comma-separated redirect URIs the client may use, matched exactly (default
//                      http://localhost:8000/auth/oauth/corp/callback,
//                      http://localhost:5173/auth/oauth/corp/callback)
//   IDP_ACCOUNTS       path to a JSON array of accounts, each
//                      {"sub", "email", "email_verified", "name", "password"}
//                      (default accounts.json beside this file); it is read again at each
//                      sign-in, so accounts can be added while the provider runs
//
// What it does: authorization code flow only, PKCE required (S256; oidc-provider supports no
// other method), scopes `openid email profile`, claims `email`, `email_verified` (scope email)
// and `name` (scope profile) in the ID token as well as from userinfo, ID tokens signed RS256.
// Discovery is at $IDP_ISSUER/.well-known/openid-configuration. Once listening it prints
// `oidc-provider ready at $IDP_ISSUER`; SIGTERM or SIGINT stops it.

import { generateKeyPairSync, timingSafeEqual, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import Provider from 'oidc-provider';

const HERE = dirname(fileURLToPath(import.meta.url));

const env = (name, fallback) => {
  const value = process.env[name];
  return value === undefined || value.trim() === '' ? fallback : value.trim();
};

const PORT = Number.parseInt(env('IDP_PORT', '9400'), 10);
const HOST = env('IDP_HOST', '127.0.0.1');
const ISSUER = env('IDP_ISSUER', `http://127.0.0.1:${PORT}`);
const CLIENT_ID = env('IDP_CLIENT_ID', 'farm-auth-local');
const CLIENT_SECRET = env('IDP_CLIENT_SECRET', 'farm-auth-local-dev-secret');
const REDIRECT_URIS = env(
  'IDP_REDIRECT_URIS',
  'http://localhost:8000/auth/oauth/corp/callback,http://localhost:5173/auth/oauth/corp/callback',
)
  .split(',')
  .map((uri) => uri.trim())
  .filter(Boolean);
const ACCOUNTS_FILE = resolve(env('IDP_ACCOUNTS', join(HERE, 'accounts.json')));

function fail(message) {
  console.error(`oidc-provider: ${message}`);
  process.exit(2);
}

if (!Number.isInteger(PORT) || PORT < 0 || PORT > 65535) fail(`IDP_PORT is not a port: ${process.env.IDP_PORT}`);
if (ISSUER.endsWith('/') || !['', '/'].includes(URL.parse(ISSUER)?.pathname ?? 'x')) {
  fail(`IDP_ISSUER must be an http(s) origin without a path or trailing slash: ${ISSUER}`);
}
if (REDIRECT_URIS.length === 0) fail('IDP_REDIRECT_URIS is empty');

// --- accounts ------------------------------------------------------------------------------------
function loadAccounts() {
  const accounts = JSON.parse(readFileSync(ACCOUNTS_FILE, 'utf8'));
  if (!Array.isArray(accounts)) throw new Error(`${ACCOUNTS_FILE} must hold a JSON array`);
  for (const account of accounts) {
    for (const key of ['sub', 'email', 'password']) {
      if (typeof account[key] !== 'string' || !account[key]) {
        throw new Error(`${ACCOUNTS_FILE}: every account needs a string "${key}"`);
      }
    }
  }
  return accounts;
}

const sameSecret = (a, b) => {
  const digest = (value) => createHash('sha256').update(String(value)).digest();
  return timingSafeEqual(digest(a), digest(b));
};

function checkPassword(email, password) {
  const wanted = String(email).trim().toLowerCase();
  const account = loadAccounts().find((candidate) => candidate.email.toLowerCase() === wanted);
  // Compare even for an unknown email, so both failures take the same time.
  const matches = sameSecret(account?.password ?? '\0no account', password);
  return account && matches ? account : undefined;
}

const findAccountBySub = (sub) => loadAccounts().find((account) => account.sub === sub);

try {
  loadAccounts();
} catch (error) {
  fail(`cannot read the accounts (IDP_ACCOUNTS): ${error.message}`);
}

// --- the provider --------------------------------------------------------------------------------
// A fresh RSA key at each start: clients find it through discovery's jwks_uri.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256' };

const escapeHtml = (value) => String(value ?? '').replace(
  /[&<>"']/g,
  (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char],
);

function page(title, body) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Local OpenID Provider</title>
<style>
  body { font-family: system-ui, sans-serif; background: #f4f5f7; margin: 0; }
  main { max-width: 22rem; margin: 4rem auto; background: #fff; padding: 2rem; border-radius: 8px;
         box-shadow: 0 1px 4px rgba(0, 0, 0, .15); }
  h1 { font-size: 1.3rem; margin-top: 0; }
  label { display: block; margin: .8rem 0 .2rem; font-weight: 600; }
  input { width: 100%; box-sizing: border-box; padding: .5rem; font-size: 1rem; }
  .actions { display: flex; gap: .5rem; margin-top: 1.2rem; }
  .actions form { margin: 0; }
  button { padding: .5rem 1rem; font-size: 1rem; cursor: pointer; }
  [role="alert"] { color: #a00; background: #fee; padding: .5rem; border-radius: 4px; }
  .note { color: #666; font-size: .85rem; margin-top: 1.5rem; }
</style>
</head>
<body>
<main>
${body}
<p class="note">Local OpenID Connect provider for development and tests.</p>
</main>
</body>
</html>`;
}

function loginPage({ uid, clientName, email = '', error }) {
  return page('Sign in', `<h1>Sign in to continue to ${escapeHtml(clientName)}</h1>
${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login" autocomplete="off">
  <label for="email">Email</label>
  <input id="email" name="email" type="email" required autofocus value="${escapeHtml(email)}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" required>
  <div class="actions">
    <button type="submit">Sign in</button>
    <button type="submit" formaction="/interaction/${escapeHtml(uid)}/abort" formnovalidate>Cancel</button>
  </div>
</form>`);
}

function consentPage({ uid, clientName, account, scopes }) {
  return page('Allow access', `<h1>Allow ${escapeHtml(clientName)} to access your account?</h1>
<p>Signed in as <strong>${escapeHtml(account?.email ?? 'unknown')}</strong>.</p>
<p>It asks for: ${scopes.map((scope) => `<code>${escapeHtml(scope)}</code>`).join(', ')}</p>
<div class="actions">
  <form method="post" action="/interaction/${escapeHtml(uid)}/confirm">
    <button type="submit">Allow</button>
  </form>
  <form method="post" action="/interaction/${escapeHtml(uid)}/abort">
    <button type="submit">Deny</button>
  </form>
</div>`);
}

const ttl = {
  AccessToken: 600,
  AuthorizationCode: 60,
  IdToken: 600,
  Interaction: 600,
  Session: 3600,
  Grant: 3600,
  RefreshToken: 3600,
  ClientCredentials: 600,
  DeviceCode: 600,
  BackchannelAuthenticationRequest: 600,
  PreAuthorizedCode: 600,
};

const provider = new Provider(ISSUER, {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    client_name: 'FARM Auth (local)',
    redirect_uris: REDIRECT_URIS,
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic', // client_secret_post is accepted as well
    id_token_signed_response_alg: 'RS256',
  }],
  clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
  responseTypes: ['code'],
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  // The ID token carries the scopes' claims too: a client needs no userinfo call.
  conformIdTokenClaims: false,
  async findAccount(ctx, sub) {
    const account = findAccountBySub(sub);
    if (!account) return undefined;
    return {
      accountId: account.sub,
      async claims() {
        return {
          sub: account.sub,
          email: account.email,
          email_verified: account.email_verified === true,
          ...(account.name ? { name: account.name } : {}),
        };
      },
    };
  },
  jwks: { keys: [signingKey] },
  cookies: {
    // Fixed, public, development-only keys: they sign the cookies of a throwaway local provider.
    keys: ['farm-auth-oidc-dev-only-cookie-key-1'],
  },
  features: {
    devInteractions: { enabled: false },
    userinfo: { enabled: true },
    rpInitiatedLogout: { enabled: false },
  },
  interactions: {
    url: (ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  ttl,
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Error', `<h1>Sign-in error</h1>
<p role="alert"><strong>${escapeHtml(out.error)}</strong>: ${escapeHtml(out.error_description)}</p>`);
  },
});

// One line per failure, so a test log says why a flow stopped.
for (const event of ['authorization.error', 'grant.error', 'userinfo.error', 'server_error']) {
  provider.on(event, (ctx, error) => {
    console.error(`${event}: ${error?.error ?? error?.name}: ${error?.error_description ?? error?.message}`);
  });
}

// --- the interaction pages -----------------------------------------------------------------------
async function readForm(req) {
  let body = '';
  req.setEncoding('utf8');
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 16_384) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

async function clientNameOf(clientId) {
  const client = await provider.Client.find(clientId);
  return client?.clientName ?? clientId;
}

async function grantConsent(details) {
  const { prompt, params, session, grantId } = details;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return grant.save();
}

const INTERACTION = /^\/interaction\/([\w-]+)(?:\/(login|confirm|abort))?$/;

provider.use(async (ctx, next) => {
  const match = INTERACTION.exec(ctx.path);
  if (!match) return next();
  const [, uid, action] = match;
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'html';
  if ((action && ctx.method !== 'POST') || (!action && ctx.method !== 'GET')) {
    ctx.status = 405;
    ctx.body = page('Error', '<p role="alert">Method not allowed.</p>');
    return undefined;
  }
  let details;
  try {
    details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== uid) throw new Error('interaction mismatch');
  } catch {
    ctx.status = 400;
    ctx.body = page('Error', `<h1>Sign-in expired</h1>
<p role="alert">This sign-in is no longer valid. Go back to the application and start again.</p>`);
    return undefined;
  }
  const { prompt, params, session } = details;
  const clientName = await clientNameOf(params.client_id);
  let result;

  if (action === 'abort') {
    result = { error: 'access_denied', error_description: 'End-User denied the request' };
  } else if (prompt.name === 'login' && action === 'login') {
    const form = await readForm(ctx.req);
    const account = checkPassword(form.get('email') ?? '', form.get('password') ?? '');
    if (!account) {
      ctx.status = 401;
      ctx.body = loginPage({
        uid, clientName, email: form.get('email') ?? '', error: 'Wrong email or password.',
      });
      return undefined;
    }
    result = { login: { accountId: account.sub } };
  } else if (prompt.name === 'consent' && action === 'confirm') {
    result = { consent: { grantId: await grantConsent(details) } };
  } else if (!action && prompt.name === 'login') {
    ctx.body = loginPage({ uid, clientName, email: params.login_hint ?? '' });
    return undefined;
  } else if (!action && prompt.name === 'consent') {
    const account = findAccountBySub(session?.accountId);
    const scopes = String(params.scope ?? '').split(' ').filter(Boolean);
    ctx.body = consentPage({ uid, clientName, account, scopes });
    return undefined;
  } else {
    ctx.status = 400;
    ctx.body = page('Error', `<p role="alert">Unexpected step (${escapeHtml(prompt.name)}).</p>`);
    return undefined;
  }

  const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, {
    mergeWithLastSubmission: !result.error,
  });
  ctx.status = 303;
  ctx.redirect(returnTo);
  return undefined;
});

// --- serve ---------------------------------------------------------------------------------------
const server = createServer(provider.callback());
server.on('error', (error) => fail(`cannot listen on ${HOST}:${PORT}: ${error.message}`));
server.listen(PORT, HOST, () => {
  console.log(`oidc-provider ready at ${ISSUER}`);
});

function stop(signal) {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
  console.log(`oidc-provider stopping (${signal})`);
}
process.once('SIGTERM', () => stop('SIGTERM'));
process.once('SIGINT', () => stop('SIGINT'));
