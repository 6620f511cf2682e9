/**
 * A small seeded generator (mulberry32) so that a simulation with the same `--seed` draws the
 * same faults for the same devices. Not for anything secret.
 */
export type Random = () => number;

export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A number drawn uniformly from `[min, max]`. */
export function between(random: Random, min: number, max: number): number {
  return min + (max - min) * random();
}
