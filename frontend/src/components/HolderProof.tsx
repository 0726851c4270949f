import { useCallback, useState } from "react";
import type { FormEvent } from "react";
import { Link } from "react-router";

import { errorMessage } from "../lib/api/errors";
import { errorCode, errorDetail } from "../lib/challenge";
import { Alert, Field, SubmitButton } from "./ui";

/**
 * A link that proves an address (verification, a new address) completes only for whoever holds
 * the account: this browser signed in to it, or its password typed here. The server says so with
 * 403 ACCOUNT_PROOF_REQUIRED, naming the account and how it can be shown (see the backend's
 * apps/auth/flows/verification.py).
 */
export interface ProofRequired {
  reason: string;
  email: string;
  /** ["password"], or []: the account has none, so sign in to it first. */
  methods: string[];
  /** The account was never confirmed: the owner of the address may refuse it ("this wasn't me"). */
  canDecline: boolean;
}

export function proofRequired(error: unknown): ProofRequired | null {
  if (errorCode(error) !== "ACCOUNT_PROOF_REQUIRED") return null;
  const detail = errorDetail(error) ?? {};
  return {
    reason: typeof detail.reason === "string" ? detail.reason : "Enter the account's password to finish.",
    email: typeof detail.email === "string" ? detail.email : "",
    methods: Array.isArray(detail.methods) ? detail.methods.filter((m): m is string => typeof m === "string") : [],
    canDecline: detail.can_decline === true,
  };
}

type Answer<T> = Promise<{ data?: T; error?: unknown }>;

/** Where a link's request stands: sent, waiting for the account's password, done, or refused. */
export type LinkState<T> =
  | { phase: "sending" }
  | { phase: "proof"; proof: ProofRequired; error: string | null; busy: boolean }
  | { phase: "done"; data: T }
  | { phase: "failed"; message: string };

const UNREACHABLE = "The server could not be reached. Reload to try again.";

/**
 * Send a link's token (`send()`), and again with the password when the server asks for proof that
 * this browser holds the account. `start` sends it the first time.
 */
export function useLinkWithProof<T>(send: (password?: string) => Answer<T>) {
  const [state, setState] = useState<LinkState<T>>({ phase: "sending" });

  const start = useCallback(() => {
    send()
      .then(({ data, error }) => {
        const proof = error === undefined ? null : proofRequired(error);
        if (proof) setState({ phase: "proof", proof, error: null, busy: false });
        else if (error !== undefined) setState({ phase: "failed", message: errorMessage(error) });
        else setState({ phase: "done", data: data as T });
      })
      .catch(() => setState({ phase: "failed", message: UNREACHABLE }));
  }, [send]);

  const withPassword = useCallback(
    async (password: string) => {
      setState((now) => (now.phase === "proof" ? { ...now, busy: true, error: null } : now));
      try {
        const { data, error } = await send(password);
        if (error === undefined) {
          setState({ phase: "done", data: data as T });
        } else if (errorCode(error) === "ACCOUNT_PROOF_INVALID" || errorCode(error) === "TOO_MANY_REQUESTS") {
          // Wrong, or too many wrong: say so beside the field, and let them try again.
          setState((now) => (now.phase === "proof" ? { ...now, busy: false, error: errorMessage(error) } : now));
        } else {
          setState({ phase: "failed", message: errorMessage(error) });
        }
      } catch {
        setState((now) => (now.phase === "proof" ? { ...now, busy: false, error: UNREACHABLE } : now));
      }
    },
    [send],
  );

  return { state, start, withPassword };
}

/**
 * What the page shows while the server waits for proof: the account's password (focused), or the
 * way to sign in first (coming back here afterwards).
 */
export function HolderProofForm({
  proof,
  busy,
  error,
  returnTo,
  action,
  onPassword,
}: {
  proof: ProofRequired;
  busy: boolean;
  error: string | null;
  /** This page, to come back to after signing in. */
  returnTo: string;
  /** What the button does: "Confirm my address". */
  action: string;
  onPassword: (password: string) => void;
}) {
  if (!proof.methods.includes("password")) {
    return (
      <Alert kind="info">
        {proof.reason}{" "}
        <Link to="/login" state={{ from: returnTo }}>
          Sign in
        </Link>
      </Alert>
    );
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    onPassword(String(new FormData(event.currentTarget).get("password") ?? ""));
  }

  return (
    <form onSubmit={submit} aria-label="Show it is your account">
      <p>{proof.reason}</p>
      <Alert kind="error">{error}</Alert>
      <Field
        label={`Password of ${proof.email || "the account"}`}
        name="password"
        type="password"
        autoComplete="current-password"
        autoFocus
        required
      />
      <SubmitButton busy={busy}>{action}</SubmitButton>
    </form>
  );
}
