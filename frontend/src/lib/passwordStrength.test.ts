import { describe, expect, it } from "vitest";

import { describeVerdict, latestOnly, STRENGTH_TEXT } from "./passwordStrength";

const verdict = (over: Partial<Parameters<typeof describeVerdict>[0]>) => ({
  acceptable: false,
  score: 0,
  reason: null,
  warning: null,
  suggestions: [],
  ...over,
});

describe("describeVerdict", () => {
  it("gives the server's reason for a refused password, before its warning", () => {
    const said = describeVerdict(
      verdict({ reason: "Password is too easy to guess.", warning: "This is a top-10 common password." }),
    );
    expect(said).toEqual({ words: STRENGTH_TEXT.weak, advice: "Password is too easy to guess." });
  });

  it("falls back to the warning, then a suggestion", () => {
    expect(describeVerdict(verdict({ warning: "Dates are easy to guess." })).advice).toBe("Dates are easy to guess.");
    expect(describeVerdict(verdict({ suggestions: ["Add another word."] })).advice).toBe("Add another word.");
  });

  it("calls an acceptable password strong enough, whatever the score", () => {
    expect(describeVerdict(verdict({ acceptable: true, score: 3 })).words).toBe(STRENGTH_TEXT.acceptable);
  });
});

describe("latestOnly", () => {
  it("lets a late answer to an older question lose to the newer one", async () => {
    const pending: Array<(answer: string) => void> = [];
    const judging = latestOnly<string, string>(
      (question) => new Promise((resolve) => pending.push(() => resolve(`about ${question}`))),
    );
    const first = judging.ask("pass");
    const second = judging.ask("password");
    pending[1]?.("");
    pending[0]?.("");
    expect(await second).toEqual({ answer: "about password", latest: true });
    expect(await first).toEqual({ answer: "about pass", latest: false });
  });

  it("aborts the older request and treats a failure as no answer", async () => {
    const signals: AbortSignal[] = [];
    const judging = latestOnly<string, string>(async (_question, signal) => {
      signals.push(signal);
      throw new Error("offline");
    });
    const first = judging.ask("a");
    await judging.ask("ab");
    expect(signals[0]?.aborted).toBe(true);
    expect(await first).toEqual({ answer: null, latest: false });
  });

  it("counts nothing in flight once cancelled", async () => {
    let release: () => void = () => undefined;
    const judging = latestOnly<string, string>(() => new Promise((resolve) => (release = () => resolve("late"))));
    const asked = judging.ask("a");
    judging.cancel();
    release();
    expect((await asked).latest).toBe(false);
  });
});
