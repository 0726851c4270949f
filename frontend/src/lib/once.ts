import { useEffect, useRef, useState } from "react";
import { useSearchParams } from "react-router";

/**
 * Run `action` once in the life of a page, as soon as `ready`: for requests that spend
 * something (a one-time link's token), even when StrictMode runs effects twice.
 */
export function useOnceWhen(ready: boolean, action: () => void): void {
  const done = useRef(false);
  useEffect(() => {
    if (!ready || done.current) return;
    done.current = true;
    action();
  });
}

/**
 * The `token` of a mailed link, read once when the page opens; the address bar loses it at once,
 * so it stays out of the history, bookmarks and screenshots (it is spent anyway).
 */
export function useLinkToken(): string | null {
  const [params, setParams] = useSearchParams();
  const [token] = useState(() => params.get("token"));
  useEffect(() => {
    if (!params.has("token")) return;
    const rest = new URLSearchParams(params);
    rest.delete("token");
    setParams(rest, { replace: true });
  }, [params, setParams]);
  return token;
}
