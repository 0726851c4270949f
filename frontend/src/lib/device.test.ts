import { describe, expect, it } from "vitest";

import { describeDevice, exactTime, timeAgo } from "./device";

describe("describeDevice", () => {
  it.each([
    ["Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0", "Firefox on Linux"],
    ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36 Edg/156.0", "Edge on Windows"],
    ["Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1", "Safari on iOS"],
    ["Mozilla/5.0 (Linux; Android 15) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Mobile Safari/537.36", "Chrome on Android"],
    ["curl/8.5.0", "curl"],
    ["", "Unknown device"],
  ])("%s", (agent, expected) => {
    expect(describeDevice(agent)).toBe(expected);
  });
});

describe("timeAgo", () => {
  const now = Date.UTC(2026, 10, 23, 12, 0, 0);
  it("speaks plainly", () => {
    expect(timeAgo(new Date(now - 10_000).toISOString(), now)).toBe("just now");
    expect(timeAgo(new Date(now - 3 * 60_000).toISOString(), now)).toBe("3 minutes ago");
    expect(timeAgo(new Date(now - 2 * 86_400_000).toISOString(), now)).toBe("2 days ago");
  });
});

describe("exactTime", () => {
  it("gives the date and the minute", () => {
    expect(exactTime("2026-11-23T12:05:09Z", "en-GB", "UTC")).toBe("23 Nov 2026, 12:05");
  });
});
