import fc from 'fast-check';

/**
 * How many generated inputs each property gets. CI runs a short pass (2,000 each, the whole
 * fuzz suite in seconds); `npm run test:fuzz` sets FUZZ_RUNS=1000000 for the long run.
 * FUZZ_SEED replays a failure fast-check reported.
 */
export const FUZZ_RUNS = Math.max(1, Number(process.env.FUZZ_RUNS ?? 2000));

/** Vitest timeout for one property: generous, since a hang is caught per input below. */
export const FUZZ_TIMEOUT_MS = 60_000 + FUZZ_RUNS * 5;

/** One input taking longer than this is a hang, milliseconds. */
export const HANG_MS = 1000;

export function fuzz(property: fc.IProperty<any>): void {
  const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
  fc.assert(property, { numRuns: FUZZ_RUNS, seed, endOnFailure: true });
}

/** Runs `parse`, failing on a hang; returns its value or the error it threw. */
export function timed<T>(parse: () => T): { value?: T; error?: unknown } {
  const start = performance.now();
  let outcome: { value?: T; error?: unknown };
  try {
    outcome = { value: parse() };
  } catch (error) {
    outcome = { error };
  }
  const took = performance.now() - start;
  if (took > HANG_MS) throw new Error(`took ${took.toFixed(0)} ms: a hang`);
  return outcome;
}

/** A cheap assertion for hot property bodies (vitest's expect costs more than the parsers). */
export function check(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new Error(typeof message === 'string' ? message : message());
}
