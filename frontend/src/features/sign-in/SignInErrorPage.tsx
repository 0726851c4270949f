import { Link, useSearchParams } from "react-router";

import { Alert, PublicPage, Spinner } from "../../components/ui";
import { oauthErrorMessage, worthRetrying } from "../../lib/oauthMessages";
import { authorizeUrl, providerLabel, useProviders } from "../../lib/providers";
import { useAuth } from "../../lib/session";
import { usePageTitle } from "../../lib/pageTitle";

/** Where the backend sends someone whose sign-in with a provider did not work. */
export function SignInErrorPage() {
  usePageTitle("Signing in did not work");
  const [params] = useSearchParams();
  const code = params.get("code");
  const name = params.get("provider");
  const providers = useProviders();
  const { state } = useAuth();
  const configured = providers?.find((provider) => provider.name === name);

  return (
    <PublicPage>
      <section aria-labelledby="sign-in-error-title" className="card">
        <h2 id="sign-in-error-title">Signing in did not work</h2>
        {providers === null ? (
          <Spinner />
        ) : (
          <Alert kind="error">{oauthErrorMessage(code, providerLabel(providers, name))}</Alert>
        )}
        <p className="links">
          {state.status === "signed-in" ? (
            <Link to="/">Go to your tasks</Link>
          ) : (
            <>
              <Link to="/login">Back to log in</Link>
              {code === "ACCOUNT_EXISTS" && (
                <>
                  {" · "}
                  <Link to="/forgot-password">Forgot your password?</Link>
                </>
              )}
            </>
          )}
          {configured && worthRetrying(code) && state.status !== "signed-in" && (
            <>
              {" · "}
              <a href={authorizeUrl(configured.name)}>Try {configured.label} again</a>
            </>
          )}
        </p>
      </section>
    </PublicPage>
  );
}
