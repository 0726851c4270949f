import { describe, expect, it } from "vitest";

import { nextCursor } from "./paging";

describe("nextCursor", () => {
  it("reads the cursor of the next link", () => {
    expect(nextCursor('</task/?limit=20&cursor=eyJ0Ijox>; rel="next"')).toBe("eyJ0Ijox");
  });

  it("finds rel=next among other links and parameters", () => {
    const header = '<https://x.example/task/?cursor=a>; rel="prev", </task/?cursor=b&limit=5>; title="more"; rel=next';
    expect(nextCursor(header)).toBe("b");
  });

  it("is null on the last page or for anything else", () => {
    expect(nextCursor(null)).toBeNull();
    expect(nextCursor("")).toBeNull();
    expect(nextCursor('</task/?cursor=a>; rel="prev"')).toBeNull();
    expect(nextCursor('</task/?cursor=a>; rel="nextpage"')).toBeNull();
  });
});
