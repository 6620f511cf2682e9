import { resolveQuantity, type RolloutSettings } from './rollout-settings.js';

/**
 * Sizes of a rollout's batches for `total` devices: the canary first (when there is one),
 * then batches by the chosen strategy until every device is placed. The sizes add up to
 * `total`; the last batch takes what is left.
 */
export function batchSizes(total: number, settings: RolloutSettings): number[] {
  const sizes: number[] = [];
  const canary = resolveQuantity(settings.canary, total);
  if (canary > 0) sizes.push(canary);

  let left = total - canary;
  let next = firstSize(total, left, settings);
  while (left > 0) {
    const size = Math.min(left, cap(next, settings));
    sizes.push(size);
    left -= size;
    if (settings.batchStrategy === 'exponential') next = Math.ceil(next * settings.growthFactor);
  }
  return sizes;
}

function firstSize(total: number, left: number, settings: RolloutSettings): number {
  if (settings.batchStrategy === 'percentage') {
    return Math.max(1, Math.ceil((settings.batchPercent * total) / 100 - 1e-9));
  }
  return settings.batchSize > 0 ? settings.batchSize : Math.max(left, 1);
}

function cap(size: number, settings: RolloutSettings): number {
  return settings.maxBatchSize > 0 ? Math.min(size, settings.maxBatchSize) : size;
}

/** Splits devices, in order, into batches of the given sizes. */
export function splitIntoBatches<T>(items: readonly T[], sizes: readonly number[]): T[][] {
  const batches: T[][] = [];
  let at = 0;
  for (const size of sizes) {
    batches.push(items.slice(at, at + size));
    at += size;
  }
  return batches;
}
