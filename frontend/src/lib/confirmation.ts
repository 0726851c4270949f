/**
 * Step-up confirmation: a sensitive route answers 403 CONFIRMATION_REQUIRED (with the methods
 * this account can use) when the person has not signed in or confirmed in the last minutes.
 * `withConfirmation` asks them to confirm (POST /auth/confirm, done by `ask`), then runs the
 * action once more.
 */
import { createContext, useContext, useMemo } from "react";

import type { ConfirmMethod } from "./api/secondFactors";
import { confirmMethods, errorCode, errorDetail } from "./challenge";

/** The error of an action the person chose not to confirm: nothing to report. */
export const CANCELLED = Object.freeze({ cancelled: true });
export type Cancelled = { data?: undefined; error: typeof CANCELLED };

/** Show the confirmation; resolves true once the server accepted a proof, false if dismissed. */
export type AskConfirmation = (methods: ConfirmMethod[]) => Promise<boolean>;

/** The methods of a CONFIRMATION_REQUIRED error body, or null for any other answer. */
export function confirmationRequired(error: unknown): ConfirmMethod[] | null {
  if (errorCode(error) !== "CONFIRMATION_REQUIRED") return null;
  // Empty: the account has nothing to confirm with (made by a provider); it signs in again.
  return confirmMethods(errorDetail(error)?.methods);
}

/** Run `action`; when it needs confirmation, ask, and run it once more (only once). */
export async function withConfirmation<R extends { error?: unknown }>(
  action: () => Promise<R>,
  ask: AskConfirmation,
): Promise<R | Cancelled> {
  const first = await action();
  const methods = first.error === undefined ? null : confirmationRequired(first.error);
  if (methods === null) return first;
  if (!(await ask(methods))) return { error: CANCELLED };
  return action();
}

type Confirmed = <A extends unknown[], R extends { error?: unknown }>(
  action: (...args: A) => Promise<R>,
) => (...args: A) => Promise<R | Cancelled>;

/** Who asks the person to confirm: the step-up feature's provider (features/step-up). */
export const ConfirmContext = createContext<AskConfirmation | null>(null);

/**
 * Wrap an API call (openapi-fetch's `{ data, error }`) so that a 403 CONFIRMATION_REQUIRED asks
 * the person to confirm it's you and then runs the call once more. A dismissed dialog gives the
 * error CANCELLED, which `useAction` does not report.
 */
export function useConfirmed(): Confirmed {
  const ask = useContext(ConfirmContext);
  if (!ask) throw new Error("useConfirmed outside <ConfirmProvider>");
  return useMemo<Confirmed>(
    () =>
      (action) =>
      (...args) =>
        withConfirmation(() => action(...args), ask),
    [ask],
  );
}
