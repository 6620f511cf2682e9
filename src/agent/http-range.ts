/**
 * The parts of RFC 9110 §14 the downloader needs. A resume never asks for a negative or an
 * inverted range: `bytes=N-` when the total is unknown, `bytes=N-(total-1)` when it is known,
 * and nothing at all from offset 0.
 */
export function rangeHeader(offset: number, total: number | null): string | undefined {
  if (!Number.isSafeInteger(offset) || offset <= 0) return undefined;
  if (total === null) return `bytes=${offset}-`;
  if (offset >= total) throw new RangeError(`offset ${offset} is at or past the total ${total}`);
  return `bytes=${offset}-${total - 1}`;
}

export interface ContentRange {
  readonly start: number;
  readonly end: number;
  /** null for `/*` (total unknown to the server). */
  readonly total: number | null;
}

/** Parses `bytes start-end/total` (RFC 9110 §14.4); null for anything malformed. */
export function parseContentRange(value: string | undefined): ContentRange | null {
  if (!value) return null;
  const match = /^bytes (\d{1,15})-(\d{1,15})\/(\d{1,15}|\*)$/.exec(value.trim());
  if (!match) return null;
  const start = Number(match[1]);
  const end = Number(match[2]);
  const total = match[3] === '*' ? null : Number(match[3]);
  if (end < start || (total !== null && end >= total)) return null;
  return { start, end, total };
}

/** `bytes * /N` on a 416: what the server says the whole length is. */
export function parseUnsatisfiedRange(value: string | undefined): number | null {
  const match = /^bytes \*\/(\d{1,15})$/.exec(value?.trim() ?? '');
  return match ? Number(match[1]) : null;
}

/** Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3), in milliseconds from `now`. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | null {
  if (!value) return null;
  if (/^\d{1,9}$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
