/**
 * Keyset paging: the API names the next page in an RFC 8288 `Link: <url>; rel="next"` header.
 * The cursor in that URL is opaque; the client only carries it over to the next request.
 */

/** The `cursor` of the `rel="next"` link in a Link header, or null on the last page. */
export function nextCursor(link: string | null): string | null {
  if (!link) return null;
  for (const part of link.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (match && /;\s*rel="?next"?(\s*;|\s*$)/i.test(match[2] ?? "")) {
      return new URL(match[1] ?? "", "http://relative.invalid").searchParams.get("cursor");
    }
  }
  return null;
}
