import fc from 'fast-check';

/**
 * How many generated inputs each property gets. CI runs a short pass (2,000 each, the whole
 * fuzz suite in seconds); `npm run test:fuzz` sets FUZZ_RUNS=1000000 for the long run.
 * FUZZ_SEED replays a failure fast-check reported.
 */
export const FUZZ_RUNS = Math.max(1, Number(process.env.FUZZ_RUNS ?? 2000));

/** Vitest timeout for one property: generous, since a hang is caught per input below. */
export const FUZZ_TIMEOUT_MS = 60_000 + FUZZ_RUNS * 5;

/**
 * One input taking longer than this is a hang, milliseconds. Parsers answer in microseconds;
 * the margin is for a loaded CI machine, where a garbage collection or a descheduled process
 * can stall any call.
 */
export const HANG_MS = 2000;

export function fuzz(property: fc.IProperty<any>): void {
  const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
  fc.assert(property, { numRuns: FUZZ_RUNS, seed, endOnFailure: true });
}

function run<T>(parse: () => T): { value?: T; error?: unknown; took: number } {
  const start = performance.now();
  try {
    const value = parse();
    return { value, took: performance.now() - start };
  } catch (error) {
    return { error, took: performance.now() - start };
  }
}

/**
 * Runs `parse`, failing on a hang; returns its value or the error it threw. A slow call is
 * timed again before it counts: a real hang repeats, a stall of the machine does not.
 */
export function timed<T>(parse: () => T): { value?: T; error?: unknown } {
  const first = run(parse);
  if (first.took <= HANG_MS) return first;
  const again = run(parse);
  if (again.took > HANG_MS) {
    throw new Error(`took ${first.took.toFixed(0)} ms, then ${again.took.toFixed(0)} ms: a hang`);
  }
  return again;
}

/** A cheap assertion for hot property bodies (vitest's expect costs more than the parsers). */
export function check(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new Error(typeof message === 'string' ? message : message());
}
