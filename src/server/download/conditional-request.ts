/**
 * Entity-tag preconditions of RFC 9110 §13 for an artifact whose strong ETag is derived from
 * its SHA-256. Artifacts carry no Last-Modified, so the date forms never validate: a dated
 * If-Range sends the whole body (§13.1.5), If-Modified-Since and If-Unmodified-Since are
 * ignored (§13.1.3, §13.1.4).
 */

/** The strong ETag of an artifact: its SHA-256 in hex, quoted. */
export function etagFor(sha256: string): string {
  return `"${sha256.toLowerCase()}"`;
}

/**
 * Calls `visit(tag, weak)` for each entity-tag of a comma-separated list, stopping when it
 * returns true. Tags are read by their quotes, not split on commas: a comma is a legal
 * etagc. Malformed text ends the scan (§13.1.1 lets us treat it as no match).
 */
function someTag(list: string, visit: (opaque: string, weak: boolean) => boolean): boolean {
  let i = 0;
  while (i < list.length) {
    const c = list.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x2c) {
      i++;
      continue;
    }
    let weak = false;
    if (list.startsWith('W/', i)) {
      weak = true;
      i += 2;
    }
    if (list.charCodeAt(i) !== 0x22) return false;
    const close = list.indexOf('"', i + 1);
    if (close < 0) return false;
    if (visit(list.slice(i, close + 1), weak)) return true;
    i = close + 1;
  }
  return false;
}

/** If-Match (§13.1.1): strong comparison; `*` matches the (always existing) artifact. */
export function ifMatchPasses(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  return someTag(header, (tag, weak) => !weak && tag === etag);
}

/**
 * If-None-Match (§13.1.2): weak comparison; true when the client's copy is current, which
 * for GET and HEAD means 304 Not Modified.
 */
export function noneMatchHits(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  return someTag(header, (tag) => tag === etag);
}

/**
 * If-Range (§13.1.5): the Range applies only when the validator matches strongly. A weak tag
 * or a date never matches, so the client receives the whole, current body.
 */
export function ifRangeMatches(header: string, etag: string): boolean {
  return header.trim() === etag;
}
