import type { DownloadGrant } from '../../shared/token/download-token.js';

/**
 * Knows when a device that fetched a package in pieces (a cut download resumed with
 * `Range`, or several ranged requests) has received every byte. A whole 200 needs no
 * tracking; only partial responses are remembered, per device and action, so a device that
 * resumes with a freshly issued URL still counts. Bounded: the oldest record goes first.
 */
export class CompletionTracker {
  /** Key → received byte intervals, inclusive, sorted and disjoint. */
  readonly #received = new Map<string, Array<[number, number]>>();

  constructor(readonly maxTracked = 10_000) {}

  /**
   * Records that bytes `start..end` (inclusive) of a `size`-byte package reached the device.
   * True exactly when this completes the package; its record is then forgotten, so the
   * next complete pass counts again.
   */
  add(grant: DownloadGrant, size: number, start: number, end: number): boolean {
    if (end < start) return false;
    const key = `${grant.packageId}:${grant.deviceRowId}:${grant.actionId}`;
    const merged = mergeInterval(this.#received.get(key) ?? [], start, end);

    if (merged.length === 1 && merged[0][0] === 0 && merged[0][1] >= size - 1) {
      this.#received.delete(key);
      return true;
    }
    this.#received.delete(key); // re-inserted last: Map order is our age order
    this.#received.set(key, merged);
    if (this.#received.size > this.maxTracked) {
      this.#received.delete(this.#received.keys().next().value!);
    }
    return false;
  }

  get size(): number {
    return this.#received.size;
  }
}

function mergeInterval(
  intervals: Array<[number, number]>,
  start: number,
  end: number,
): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let s = start;
  let e = end;
  for (const [a, b] of intervals) {
    if (b + 1 < s) out.push([a, b]);
    else if (a > e + 1) {
      out.push([s, e]);
      s = a;
      e = b;
    } else {
      s = Math.min(s, a);
      e = Math.max(e, b);
    }
  }
  out.push([s, e]);
  return out;
}
