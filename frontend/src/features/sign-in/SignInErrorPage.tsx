import { Link, useSearchParams } from "react-router";

import { Alert, PublicPage, Spinner } from "../../components/ui";
import { oauthErrorMessage, worthRetrying } from "../../lib/oauthMessages";
import { authorizeUrl, providerLabel, useProviders } from "../../lib/providers";
import { useAuth } from "../../lib/session";
import { usePageTitle } from "../../lib/pageTitle";

const TEXT = {
  title: "Signing in did not work",
  toTasks: "Go to your tasks",
  backToLogin: "Back to log in",
  forgot: "Forgot your password?",
  retry: (provider: string) => `Try ${provider} again`,
  separator: " · ",
};

/** Where the backend sends someone whose sign-in with a provider did not work. */
export function SignInErrorPage() {
  usePageTitle(TEXT.title);
  const [params] = useSearchParams();
  const code = params.get("code");
  const name = params.get("provider");
  const providers = useProviders();
  const { state } = useAuth();
  const configured = providers?.find((provider) => provider.name === name);

  return (
    <PublicPage>
      <section aria-labelledby="sign-in-error-title" className="card">
        <h2 id="sign-in-error-title">{TEXT.title}</h2>
        {providers === null ? (
          <Spinner />
        ) : (
          <Alert kind="error">{oauthErrorMessage(code, providerLabel(providers, name))}</Alert>
        )}
        <p className="links">
          {state.status === "signed-in" ? (
            <Link to="/">{TEXT.toTasks}</Link>
          ) : (
            <>
              <Link to="/login">{TEXT.backToLogin}</Link>
              {code === "ACCOUNT_EXISTS" && (
                <>
                  {TEXT.separator}
                  <Link to="/forgot-password">{TEXT.forgot}</Link>
                </>
              )}
            </>
          )}
          {configured && worthRetrying(code) && state.status !== "signed-in" && (
            <>
              {TEXT.separator}
              <a href={authorizeUrl(configured.name)}>{TEXT.retry(configured.label)}</a>
            </>
          )}
        </p>
      </section>
    </PublicPage>
  );
}
