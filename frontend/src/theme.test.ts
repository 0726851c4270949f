// @vitest-environment node
import { readFileSync } from "node:fs";

import { describe, expect, it } from "vitest";

/**
 * The design tokens of styles.css, in both themes, against WCAG 2.2: text 4.5:1 (1.4.3), the
 * boundary of a control and the focus ring 3:1 (1.4.11) — axe checks text on the rendered
 * pages, but not the edges of controls.
 */
const css = readFileSync(new URL("./styles.css", import.meta.url), "utf8");

function tokens(selector: string): Record<string, string> {
  const start = css.indexOf(`${selector} {`);
  if (start < 0) throw new Error(`no ${selector} block in styles.css`);
  const block = css.slice(start, css.indexOf("}", start));
  return Object.fromEntries([...block.matchAll(/(--[\w-]+):\s*(#[0-9a-f]{6})/gi)].map((m) => [m[1], m[2]]));
}

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  const linear = (c: number) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  return 0.2126 * linear(r!) + 0.7152 * linear(g!) + 0.0722 * linear(b!);
}

function contrast(a: string, b: string): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (light! + 0.05) / (dark! + 0.05);
}

const light = tokens(":root");
const themes = { light, dark: { ...light, ...tokens(':root[data-theme="dark"]') } };

describe.each(Object.entries(themes))("the %s theme", (_, t) => {
  const surfaces = { page: t["--bg"]!, card: t["--card"]! };

  it.each(Object.entries(surfaces))("draws the edge of inputs at 3:1 or more on the %s", (_, surface) => {
    expect(contrast(t["--control-border"]!, surface)).toBeGreaterThanOrEqual(3);
  });

  it.each(Object.entries(surfaces))("draws the focus ring at 3:1 or more on the %s", (_, surface) => {
    expect(contrast(t["--accent"]!, surface)).toBeGreaterThanOrEqual(3);
  });

  it.each(["--fg", "--muted", "--accent", "--danger", "--ok", "--warn"])("writes %s text at 4.5:1 or more", (token) => {
    for (const surface of Object.values(surfaces)) expect(contrast(t[token]!, surface)).toBeGreaterThanOrEqual(4.5);
  });

  it("writes on the accent colour at 4.5:1 or more (primary buttons)", () => {
    expect(contrast(t["--accent-fg"]!, t["--accent"]!)).toBeGreaterThanOrEqual(4.5);
  });
});

describe("contrast", () => {
  it("is WCAG's ratio", () => {
    expect(contrast("#000000", "#ffffff")).toBeCloseTo(21, 5);
    expect(contrast("#d9e2ec", "#ffffff")).toBeCloseTo(1.31, 2); // the old input border
  });
});
