import { useCallback, useEffect, useState } from "react";
import { useSearchParams } from "react-router";

import { VerifyFirst } from "../../components/VerifyFirst";
import { Alert, Spinner, useAction } from "../../components/ui";
import { api } from "../../lib/api/client";
import type { components } from "../../lib/api/schema";
import { useConfirmed } from "../../lib/confirmation";
import { LINK_RETURN_PARAMS, linkReturn, oauthErrorMessage } from "../../lib/oauthMessages";
import { providerLabel, useProviders } from "../../lib/providers";
import type { Provider } from "../../lib/providers";
import { useAuth } from "../../lib/session";

type LinkedAccounts = components["schemas"]["LinkedAccounts"];
type LinkedAccount = components["schemas"]["LinkedAccount"];

function linkedOn(account: LinkedAccount): string {
  return new Date(account.linked_at).toLocaleDateString(undefined, { year: "numeric", month: "long", day: "numeric" });
}

/**
 * The account page's "Sign-in methods": providers linked to this account, unlink, link another.
 * Shown only when the server offers providers (otherwise its routes do not exist).
 */
export function SignInMethods() {
  const providers = useProviders();
  if (!providers || providers.length === 0) return null;
  return <Methods providers={providers} />;
}

function Methods({ providers }: { providers: Provider[] }) {
  const { user } = useAuth();
  const [params, setParams] = useSearchParams();
  // Read once: the query string is cleaned right away, the message stays.
  const [returned] = useState(() => linkReturn(params));
  const [accounts, setAccounts] = useState<LinkedAccounts | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [linking, setLinking] = useState<string | null>(null);
  const load = useAction(() => api.GET("/auth/oauth/accounts"));
  const confirmed = useConfirmed();
  const link = useAction(
    confirmed((provider: string) => api.POST("/auth/oauth/{provider}/link", { params: { path: { provider } } })),
  );
  const unlink = useAction(
    confirmed((provider: string) => api.DELETE("/auth/oauth/accounts/{provider}", { params: { path: { provider } } })),
  );
  const setPassword = useAction((email: string) => api.POST("/auth/forgot-password", { body: { email } }));
  const fetchAccounts = load.run;

  const reload = useCallback(async () => {
    const result = await fetchAccounts();
    if (result.ok && result.data) setAccounts(result.data);
  }, [fetchAccounts]);

  useEffect(() => {
    void reload();
  }, [reload]);

  useEffect(() => {
    if (!LINK_RETURN_PARAMS.some((key) => params.has(key))) return;
    const rest = new URLSearchParams(params);
    for (const key of LINK_RETURN_PARAMS) rest.delete(key);
    setParams(rest, { replace: true });
  }, [params, setParams]);

  async function startLinking(provider: Provider) {
    setNotice(null);
    setLinking(provider.name);
    const result = await link.run(provider.name);
    if (result.ok && result.data) {
      // Off to the provider; it sends the browser back to /account/security?linked=... or ?link_error=...
      window.location.assign(result.data.authorization_url);
    } else {
      setLinking(null);
    }
  }

  async function remove(account: LinkedAccount) {
    setNotice(null);
    if ((await unlink.run(account.provider)).ok) {
      setNotice(`${account.label} was unlinked: you can no longer sign in with it.`);
      await reload();
    }
  }

  async function sendPasswordLink() {
    if (user && (await setPassword.run(user.email)).ok) {
      setNotice(`A link to set your password is on its way to ${user.email}.`);
    }
  }

  const linkedNames = new Set(accounts?.accounts.map((account) => account.provider));
  const notLinked = providers.filter((provider) => !linkedNames.has(provider.name));
  const returnedLabel = returned ? providerLabel(providers, returned.name) : "";
  const returnSuccess = returned?.ok && !notice ? `${returnedLabel} is linked: you can now sign in with it.` : null;
  const returnError = returned && !returned.ok ? oauthErrorMessage(returned.code, returnedLabel, "link") : null;
  const error = load.error ?? link.error ?? unlink.error ?? setPassword.error ?? (notice ? null : returnError);

  return (
    <section className="card" aria-labelledby="methods-title">
      <h2 id="methods-title">Sign-in methods</h2>
      <Alert kind="success">{notice ?? returnSuccess}</Alert>
      <Alert kind="error">{error}</Alert>
      {!accounts ? (
        !load.error && <Spinner label="Loading sign-in methods…" />
      ) : (
        <>
          {!accounts.has_password && (
            <div className="alert alert-info">
              <p>You have no password yet: use Forgot password to set one.</p>
              <button type="button" onClick={() => void sendPasswordLink()} disabled={setPassword.busy} aria-busy={setPassword.busy}>
                {setPassword.busy ? "Sending…" : "Email me a link to set a password"}
              </button>
            </div>
          )}
          {accounts.accounts.length === 0 ? (
            <p className="meta">No other provider is linked to this account yet.</p>
          ) : (
            <ul className="methods" aria-label="Linked providers">
              {accounts.accounts.map((account) => (
                <li key={account.provider} className="method">
                  <div>
                    <strong>{account.label}</strong>
                    {account.email && <> · {account.email}</>}
                    <div className="meta">Linked on {linkedOn(account)}</div>
                  </div>
                  <button
                    type="button"
                    className="danger"
                    disabled={unlink.busy}
                    aria-busy={unlink.busy}
                    onClick={() => void remove(account)}
                    aria-label={`Unlink ${account.label}`}
                  >
                    Unlink
                  </button>
                </li>
              ))}
            </ul>
          )}
          {notLinked.length > 0 && user && !user.is_verified && (
            <VerifyFirst email={user.email} what={`link ${notLinked.map((p) => p.label).join(" or ")}`} />
          )}
          {notLinked.length > 0 && user?.is_verified && (
            <div className="method-actions">
              {notLinked.map((provider) => (
                <button
                  key={provider.name}
                  type="button"
                  disabled={linking !== null}
                  aria-busy={linking === provider.name}
                  onClick={() => void startLinking(provider)}
                >
                  {linking === provider.name ? `Opening ${provider.label}…` : `Link ${provider.label}`}
                </button>
              ))}
            </div>
          )}
        </>
      )}
    </section>
  );
}
