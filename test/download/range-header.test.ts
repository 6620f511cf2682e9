import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { parseRangeHeader } from '../../src/server/download/range-header.js';

const runs = Number(process.env.FUZZ_RUNS ?? 2000);

describe('parseRangeHeader', () => {
  it.each([
    ['bytes=0-99', 1000, { kind: 'single', start: 0, end: 99 }],
    ['bytes=500-', 1000, { kind: 'single', start: 500, end: 999 }],
    ['bytes=-100', 1000, { kind: 'single', start: 900, end: 999 }],
    ['bytes=-5000', 1000, { kind: 'single', start: 0, end: 999 }],
    ['bytes=990-5000', 1000, { kind: 'single', start: 990, end: 999 }],
    ['BYTES = 1-2', 1000, { kind: 'single', start: 1, end: 2 }],
    ['bytes=0-0,,  1-1', 1000, { kind: 'single', start: 0, end: 1 }],
    ['bytes=0-99999999999999999999999', 10, { kind: 'single', start: 0, end: 9 }],
    ['bytes=1000-', 1000, { kind: 'unsatisfiable' }],
    ['bytes=-0', 1000, { kind: 'unsatisfiable' }],
    ['bytes=0-', 0, { kind: 'unsatisfiable' }],
    ['bytes=-1', 0, { kind: 'unsatisfiable' }],
    ['bytes=2000-, 10-20', 1000, { kind: 'single', start: 10, end: 20 }],
    ['bytes=0-9, 20-29', 1000, { kind: 'none' }],
    ['bytes=5-1', 1000, { kind: 'none' }],
    ['bytes=1.5-2', 1000, { kind: 'none' }],
    ['bytes=--1', 1000, { kind: 'none' }],
    ['bytes=', 1000, { kind: 'none' }],
    ['items=0-1', 1000, { kind: 'none' }],
    ['bytes 0-1', 1000, { kind: 'none' }],
    [
      `bytes=${Array.from({ length: 17 }, (_, i) => `${i}-${i}`).join(',')}`,
      1000,
      { kind: 'none' },
    ],
  ])('%s of %i bytes', (header, size, expected) => {
    expect(parseRangeHeader(header, size)).toEqual(expected);
  });

  it('treats a missing header as the whole body', () => {
    expect(parseRangeHeader(undefined, 10)).toEqual({ kind: 'none' });
  });

  const size = fc.oneof(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 0, max: 4096 }));
  const num = fc.oneof(fc.nat(5000), fc.bigInt({ min: 0n, max: 10n ** 25n }).map(String));
  const spec = fc.oneof(
    fc.tuple(num, num).map(([a, b]) => `${a}-${b}`),
    num.map((a) => `${a}-`),
    num.map((a) => `-${a}`),
    fc.string({ maxLength: 8 }),
  );
  const header = fc.oneof(
    fc.array(spec, { maxLength: 20 }).map((specs) => `bytes=${specs.join(',')}`),
    fc.string({ maxLength: 80 }),
    fc.string({ unit: 'binary', maxLength: 80 }),
  );

  it('never throws and never answers a range outside the body', () => {
    fc.assert(
      fc.property(header, size, (h, n) => {
        const r = parseRangeHeader(h, n);
        if (r.kind === 'single') {
          expect(Number.isSafeInteger(r.start) && Number.isSafeInteger(r.end)).toBe(true);
          expect(r.start).toBeGreaterThanOrEqual(0);
          expect(r.start).toBeLessThanOrEqual(r.end);
          expect(r.end).toBeLessThan(n);
        }
      }),
      { numRuns: runs },
    );
  });

  it('answers exactly the bytes a single valid N-M asks for, within the body', () => {
    fc.assert(
      fc.property(
        fc.nat(10_000),
        fc.nat(10_000),
        fc.integer({ min: 1, max: 10_000 }),
        (a, b, n) => {
          const [first, last] = a <= b ? [a, b] : [b, a];
          const r = parseRangeHeader(`bytes=${first}-${last}`, n);
          if (first >= n) expect(r).toEqual({ kind: 'unsatisfiable' });
          else expect(r).toEqual({ kind: 'single', start: first, end: Math.min(last, n - 1) });
        },
      ),
      { numRuns: runs },
    );
  });
});
