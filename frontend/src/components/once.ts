import { useEffect, useRef } from "react";

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
