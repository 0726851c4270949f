import { authorizeUrl, useProviders } from "../../lib/providers";

/**
 * "Continue with …", one link per configured provider, styled as the other ways to sign in.
 * `divider`: set apart from a form above by an "or" of its own. Nothing at all when the server
 * offers none (or while it is asked).
 */
export function ProviderButtons({ divider = false }: { divider?: boolean }) {
  const providers = useProviders();
  if (!providers || providers.length === 0) return null;
  const links = providers.map((provider) => (
    // A page navigation, not a router link: the server sends the browser on to the provider.
    <a key={provider.name} className="button alt-sign-in" href={authorizeUrl(provider.name)}>
      Continue with {provider.label}
    </a>
  ));
  if (!divider) return <>{links}</>;
  return (
    <div className="providers">
      <p className="divider" aria-hidden="true">
        <span>or</span>
      </p>
      <div className="alt-sign-ins" role="group" aria-label="Other ways to sign in">
        {links}
      </div>
    </div>
  );
}
