/** "Firefox on Linux" from a User-Agent header; good enough to recognise one's own devices. */
export function describeDevice(userAgent: string): string {
  if (!userAgent) return "Unknown device";
  const browser =
    [
      [/Edg\//, "Edge"],
      [/OPR\//, "Opera"],
      [/HeadlessChrome\//, "Headless Chrome"],
      [/Chrome\//, "Chrome"],
      [/Firefox\//, "Firefox"],
      [/Safari\//, "Safari"],
      [/curl\//, "curl"],
      [/python-httpx|python-requests|aiohttp/, "Python script"],
    ].find(([pattern]) => (pattern as RegExp).test(userAgent))?.[1] ?? "Browser";
  const system =
    [
      [/Android/, "Android"],
      [/iPhone|iPad|iOS/, "iOS"],
      [/Windows/, "Windows"],
      [/Mac OS X|Macintosh/, "macOS"],
      [/CrOS/, "ChromeOS"],
      [/Linux/, "Linux"],
    ].find(([pattern]) => (pattern as RegExp).test(userAgent))?.[1];
  return system ? `${browser as string} on ${system as string}` : (browser as string);
}

const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ["day", 86_400_000],
  ["hour", 3_600_000],
  ["minute", 60_000],
];

/** "3 minutes ago", "just now". */
export function timeAgo(iso: string, now = Date.now()): string {
  const elapsed = now - new Date(iso).getTime();
  const format = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
  for (const [unit, ms] of UNITS) {
    if (Math.abs(elapsed) >= ms) return format.format(-Math.round(elapsed / ms), unit);
  }
  return "just now";
}

/** "23 Nov 2026, 12:00" in the reader's language and time zone (or the ones given). */
export function exactTime(iso: string, locale?: string, timeZone?: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short", timeZone }).format(new Date(iso));
}
