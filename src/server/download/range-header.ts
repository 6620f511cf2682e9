/**
 * What a `Range` header asks of a representation of `size` bytes (RFC 9110 §14.2).
 *
 * - `none`: send the whole representation with 200. This is also the answer to a header we
 *   may ignore: another unit, bad syntax, or several ranges that do not merge into one
 *   (§14.2 lets a server ignore Range; we never send multipart/byteranges, which small
 *   device clients cannot parse anyway).
 * - `single`: send bytes `start..end` (inclusive, always within the representation) with 206.
 * - `unsatisfiable`: the header is valid but no range overlaps the representation: 416.
 */
export type ByteRange =
  | { readonly kind: 'none' }
  | { readonly kind: 'single'; readonly start: number; readonly end: number }
  | { readonly kind: 'unsatisfiable' };

export const WHOLE: ByteRange = Object.freeze({ kind: 'none' });
export const UNSATISFIABLE: ByteRange = Object.freeze({ kind: 'unsatisfiable' });

/** More specs than this is not a resume but a probe or an attack: ignored, whole body sent. */
const MAX_SPECS = 16;

// Digits beyond 15 cannot matter: every stored package is far smaller than 10^15 bytes, and
// Number() stays exact below 2^53, so longer numbers are simply "beyond the end".
const SPEC = /^(\d+)-(\d*)$|^-(\d+)$/;

/** Parses a Range header for a representation of `size` bytes. Never throws. */
export function parseRangeHeader(header: string | undefined, size: number): ByteRange {
  if (header === undefined || header.length < 7) return WHOLE;
  // The range unit is case-insensitive (§14.1); whitespace may surround "=".
  const eq = header.indexOf('=');
  if (eq < 0 || header.slice(0, eq).trim().toLowerCase() !== 'bytes') return WHOLE;

  const specs = header.slice(eq + 1).split(',');
  if (specs.length > MAX_SPECS) return WHOLE;

  const wanted: Array<[number, number]> = [];
  let valid = 0;
  for (const raw of specs) {
    const spec = raw.trim();
    if (spec === '') continue; // empty list elements are allowed (§5.6.1)
    const m = SPEC.exec(spec);
    if (!m) return WHOLE;
    valid++;

    if (m[3] !== undefined) {
      // suffix-range: the last n bytes; satisfiable when n > 0 and the body is not empty
      const n = Number(m[3]);
      if (n > 0 && size > 0) wanted.push([Math.max(0, size - n), size - 1]);
      continue;
    }
    const first = Number(m[1]);
    const last = m[2] === '' ? Infinity : Number(m[2]);
    if (last < first) return WHOLE; // an invalid range-spec makes the whole header invalid
    if (first < size) wanted.push([first, Math.min(last, size - 1)]);
  }

  if (valid === 0) return WHOLE;
  if (wanted.length === 0) return UNSATISFIABLE;
  return mergeToOne(wanted);
}

/**
 * Several ranges are sent as one when they overlap or touch (§14.2 allows coalescing);
 * otherwise the header is ignored and the whole body sent, which every client accepts.
 */
function mergeToOne(wanted: Array<[number, number]>): ByteRange {
  if (wanted.length > 1) wanted.sort((a, b) => a[0] - b[0]);
  const start = wanted[0][0];
  let end = wanted[0][1];
  for (let i = 1; i < wanted.length; i++) {
    const [s, e] = wanted[i];
    if (s > end + 1) return WHOLE;
    if (e > end) end = e;
  }
  return { kind: 'single', start, end };
}
