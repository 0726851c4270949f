import { StrictMode, act } from "react";
import { createRoot } from "react-dom/client";
import type { Root } from "react-dom/client";
import { MemoryRouter, useLocation } from "react-router";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { useLinkToken, useOnceWhen } from "./once";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

function Page({ ready, action }: { ready: boolean; action: () => void }) {
  useOnceWhen(ready, action);
  return null;
}

describe("useOnceWhen", () => {
  let root: Root;
  const action = vi.fn();
  const show = (ready: boolean) =>
    act(() =>
      root.render(
        <StrictMode>
          <Page ready={ready} action={action} />
        </StrictMode>,
      ),
    );

  beforeEach(() => {
    action.mockClear();
    root = createRoot(document.createElement("div"));
  });
  afterEach(() => act(() => root.unmount()));

  it("runs once although StrictMode runs effects twice", async () => {
    await show(true);
    expect(action).toHaveBeenCalledTimes(1);
    await show(true);
    expect(action).toHaveBeenCalledTimes(1);
  });

  it("waits until ready, then runs once", async () => {
    await show(false);
    await show(false);
    expect(action).not.toHaveBeenCalled();
    await show(true);
    await show(false);
    await show(true);
    expect(action).toHaveBeenCalledTimes(1);
  });
});

describe("useLinkToken", () => {
  it("keeps the token of the link and takes it out of the address", async () => {
    const seen: Array<{ token: string | null; search: string }> = [];
    function Landing() {
      const token = useLinkToken();
      seen.push({ token, search: useLocation().search });
      return null;
    }
    const root = createRoot(document.createElement("div"));
    await act(() =>
      root.render(
        <StrictMode>
          <MemoryRouter initialEntries={["/email-change/confirm?token=abc-123&lang=en"]}>
            <Landing />
          </MemoryRouter>
        </StrictMode>,
      ),
    );
    expect(seen.at(-1)).toEqual({ token: "abc-123", search: "?lang=en" });
    expect(seen.every(({ token }) => token === "abc-123")).toBe(true);
    await act(() => root.unmount());
  });
});
