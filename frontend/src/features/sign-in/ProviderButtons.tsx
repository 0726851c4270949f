import { authorizeUrl, useProviders } from "../../lib/providers";

/**
 * "Continue with …", one link per configured provider, set apart from the password form.
 * Nothing at all when the server offers none (or while it is asked).
 */
export function ProviderButtons() {
  const providers = useProviders();
  if (!providers || providers.length === 0) return null;
  return (
    <div className="providers">
      <p className="divider" aria-hidden="true">
        <span>or</span>
      </p>
      <ul aria-label="Other ways to sign in">
        {providers.map((provider) => (
          <li key={provider.name}>
            {/* A page navigation, not a router link: the server sends the browser on to the provider. */}
            <a className="button provider" href={authorizeUrl(provider.name)}>
              Continue with {provider.label}
            </a>
          </li>
        ))}
      </ul>
    </div>
  );
}
