import { StrictMode, act } from "react";
import { createRoot } from "react-dom/client";
import { describe, expect, it, vi } from "vitest";

import type { ActivityEvent, ActivityPage } from "../../lib/api/account";
import { ActivityList } from "./ActivityList";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

// The server's providers, as GET /auth/providers would list them.
vi.mock("../../lib/providers", () => ({ useProviders: () => [{ name: "corp", label: "Corp ID" }] }));

const FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

function event(id: string, type: string, detail: Record<string, unknown>, device = "Firefox on Linux"): ActivityEvent {
  return { id, at: new Date(Date.now() - 5 * 60_000).toISOString(), type, ip: "203.0.113.7", user_agent: FIREFOX, device, detail } as ActivityEvent;
}

describe("ActivityList", () => {
  it("shows sentences with time, device and IP, and loads the next page from the cursor", async () => {
    const pages: Record<string, ActivityPage> = {
      first: {
        events: [
          event("e1", "sign_in", { method: "password", second_factor: "totp", new_device: true }),
          event("e2", "sign_in_failed", { count: 3 }, ""),
          event("e5", "sign_in", { method: "passkey", count: 4, first_at: new Date(Date.now() - 2 * 86_400_000).toISOString() }),
        ],
        next: "c1",
      },
      c1: {
        events: [event("e2", "sign_in_failed", { count: 3 }, ""), event("e3", "provider_linked", { provider: "corp" }), event("e4", "some_new_type", {})],
        next: null,
      },
    };
    const fetchPage = vi.fn(async (cursor: string | null) => ({ data: pages[cursor ?? "first"] }));
    const container = document.createElement("div");
    const root = createRoot(container);
    await act(() =>
      root.render(
        <StrictMode>
          <ActivityList fetchPage={fetchPage} />
        </StrictMode>,
      ),
    );

    const list = container.querySelector('ul[aria-label="Security activity"]');
    const items = () => [...container.querySelectorAll("li")].map((li) => li.textContent);
    expect(list).not.toBeNull();
    expect(items()).toEqual([
      "Signed in with a password and an authenticator codenew device5 minutes ago · Firefox on Linux · IP 203.0.113.7",
      "3 failed sign-in attemptscheck5 minutes ago · Firefox on Linux · IP 203.0.113.7", // device from the user agent
      "Signed in 4 times with a passkey5 minutes ago · first 2 days ago · Firefox on Linux · IP 203.0.113.7",
    ]);
    expect(container.querySelector("time")?.getAttribute("title")).toMatch(/\d{4}/);

    const more = [...container.querySelectorAll("button")].find((button) => button.textContent === "Load more");
    await act(async () => more?.click());

    expect(fetchPage).toHaveBeenLastCalledWith("c1");
    expect(items()).toHaveLength(5); // the repeated event is shown once
    expect(items()[3]).toContain("Sign-in with Corp ID linked");
    expect(items()[4]).toContain("Security event: some new type");
    expect([...container.querySelectorAll("button")].some((button) => button.textContent === "Load more")).toBe(false);
    await act(() => root.unmount());
  });

  it("says when there is nothing yet, and shows the API's reason on failure", async () => {
    const container = document.createElement("div");
    const root = createRoot(container);
    await act(() => root.render(<ActivityList fetchPage={async () => ({ data: { events: [], next: null } })} />));
    expect(container.textContent).toContain("Nothing recorded yet.");
    await act(() =>
      root.render(
        <ActivityList key="again" fetchPage={async () => ({ error: { detail: { code: "X", reason: "Not for you." } } })} />,
      ),
    );
    expect(container.querySelector('[role="alert"]')?.textContent).toBe("Not for you.");
    await act(() => root.unmount());
  });
});
