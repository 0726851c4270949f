import { useCallback, useEffect, useRef, useState } from "react";

import { api } from "./api/client";
import type { components } from "./api/schema";

/** The server's judgement of a new password (POST /auth/password-strength): the same policy
 * register, reset and change apply, so the meter never promises what the submit refuses. */
export type Verdict = components["schemas"]["PasswordStrength"];

/** Quiet time after the last keystroke before asking: one request per pause, not per key. */
export const STRENGTH_PAUSE_MILLISECONDS = 300;

export const STRENGTH_TEXT = {
  label: "Password strength",
  acceptable: "Strong enough",
  weak: "Too easy to guess",
} as const;

/** What the meter says: a short verdict (announced when it changes) and the server's reason or
 * advice (read with the field). */
export function describeVerdict(verdict: Verdict): { words: string; advice: string | null } {
  if (verdict.acceptable) return { words: STRENGTH_TEXT.acceptable, advice: verdict.suggestions[0] ?? null };
  const advice = verdict.reason ?? verdict.warning ?? verdict.suggestions[0] ?? null;
  return { words: STRENGTH_TEXT.weak, advice };
}

/**
 * Asks only after a pause and keeps only the answer to the latest question: an earlier answer
 * arriving late never overwrites a newer one. A failed check (limited, busy, offline) shows
 * nothing; the submit is judged by the server anyway.
 */
export function latestOnly<Q, A>(ask: (question: Q, signal: AbortSignal) => Promise<A | null>) {
  let current: AbortController | null = null;
  return {
    ask: async (question: Q): Promise<{ answer: A | null; latest: boolean }> => {
      current?.abort();
      const mine = new AbortController();
      current = mine;
      let answer: A | null = null;
      try {
        answer = await ask(question, mine.signal);
      } catch {
        answer = null;
      }
      return { answer, latest: current === mine && !mine.signal.aborted };
    },
    /** Whatever is in flight is dropped: its answer will not count as the latest. */
    cancel: () => {
      current?.abort();
      current = null;
    },
  };
}

const judge = async (question: { password: string; email: string | null }, signal: AbortSignal) => {
  const { data } = await api.POST("/auth/password-strength", { body: question, signal });
  return data ?? null;
};

/** A verdict for the password being typed: `check(password, email)` at each change. */
export function usePasswordStrength(): { verdict: Verdict | null; check: (password: string, email: string | null) => void } {
  const [verdict, setVerdict] = useState<Verdict | null>(null);
  const judging = useRef(latestOnly(judge));
  const timer = useRef<number | undefined>(undefined);
  useEffect(
    () => () => {
      window.clearTimeout(timer.current);
      judging.current.cancel();
    },
    [],
  );
  const check = useCallback((password: string, email: string | null) => {
    window.clearTimeout(timer.current);
    if (!password) {
      judging.current.cancel();
      setVerdict(null);
      return;
    }
    timer.current = window.setTimeout(async () => {
      const { answer, latest } = await judging.current.ask({ password, email: email || null });
      if (latest) setVerdict(answer);
    }, STRENGTH_PAUSE_MILLISECONDS);
  }, []);
  return { verdict, check };
}
