import { useEffect, useState } from "react";

import { api } from "./api/client";
import type { components } from "./api/schema";

/** A sign-in provider this server offers ("Continue with {label}"). */
export type Provider = components["schemas"]["ProviderRead"];

/**
 * Where a "Continue with …" link goes. A plain link, never fetch: the backend answers with a
 * redirect to the provider, which the browser must follow as a page navigation.
 */
export function authorizeUrl(name: string): string {
  return `/auth/oauth/${encodeURIComponent(name)}/authorize`;
}

/** What a provider name (say, from a query string) is called on screen. */
export function providerLabel(providers: readonly Provider[] | null, name: string | null): string {
  const known = providers?.find((provider) => provider.name === name);
  if (known) return known.label;
  // An unknown name is shown only when it looks like one (lower-case, short): a link made
  // elsewhere must not put sentences of its choosing on this page.
  return name && /^[a-z][a-z0-9-]{0,31}$/.test(name) ? name : "the provider";
}

// The list changes only with the server's configuration: asked once per page load.
let cached: Promise<Provider[]> | null = null;

function loadProviders(): Promise<Provider[]> {
  cached ??= api
    .GET("/auth/providers")
    .then(({ data }) => {
      if (!data) throw new Error("no provider list");
      return data;
    })
    .catch(() => {
      cached = null; // ask again next time; meanwhile no buttons
      return [];
    });
  return cached;
}

/** The configured providers: null while asking, [] when none (or the server could not say). */
export function useProviders(): Provider[] | null {
  const [providers, setProviders] = useState<Provider[] | null>(null);
  useEffect(() => {
    let current = true;
    void loadProviders().then((list) => {
      if (current) setProviders(list);
    });
    return () => {
      current = false;
    };
  }, []);
  return providers;
}
