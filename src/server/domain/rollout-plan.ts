import { batchSizes } from './batch-plan.js';
import { expectedBatchSeconds, pacingFor, type Pacing } from './pacing-plan.js';
import { resolveQuantity, type RolloutSettings } from './rollout-settings.js';

/** What the server may spend on downloads (server config; docs/rollouts.md, "Pacing"). */
export interface PacingLimits {
  /** `--bandwidth` / TIOTA_BANDWIDTH, bytes/s. */
  readonly bandwidthBytesPerSecond: number;
  /** The download server's cap on transfers in flight (the lower of its two caps). */
  readonly maxDownloads: number;
}

export const DEFAULT_LIMITS: PacingLimits = {
  bandwidthBytesPerSecond: 12_500_000,
  maxDownloads: 1000,
};

export interface PlannedBatch {
  readonly batch: number;
  readonly size: number;
  readonly canary: boolean;
  /** Estimated seconds from the batch's start to the next batch's start (docs/rollouts.md). */
  readonly expectedSeconds: number;
}

/** A rollout's plan, shown by a dry run and stored with the rollout. */
export interface RolloutPlan {
  readonly devices: number;
  readonly batches: readonly PlannedBatch[];
  readonly pacing: Pacing;
  /** Estimated seconds for the whole rollout when every batch passes its stop rules. */
  readonly expectedSeconds: number;
}

export function buildPlan(input: {
  readonly profiles: readonly (string | null)[];
  readonly packageSize: number;
  readonly settings: RolloutSettings;
  readonly limits: PacingLimits;
}): RolloutPlan {
  const { profiles, packageSize, settings, limits } = input;
  const sizes = batchSizes(profiles.length, settings);
  const pacing = pacingFor({
    packageSize,
    bandwidthBytesPerSecond: limits.bandwidthBytesPerSecond,
    profiles,
    settings,
    serverCap: limits.maxDownloads,
  });
  const seconds = expectedBatchSeconds(sizes, packageSize, pacing, settings);
  const hasCanary = resolveQuantity(settings.canary, profiles.length) > 0;
  return {
    devices: profiles.length,
    batches: sizes.map((size, batch) => ({
      batch,
      size,
      canary: hasCanary && batch === 0,
      expectedSeconds: seconds[batch],
    })),
    pacing,
    expectedSeconds: Math.round(seconds.reduce((a, b) => a + b, 0)),
  };
}

/** The pacing limits in a server config: downloads in flight are capped by both caps. */
export function pacingLimitsOf(config: {
  readonly bandwidthBytesPerSecond: number;
  readonly maxDownloads: number;
  readonly maxDownloadsPerPackage: number;
}): PacingLimits {
  return {
    bandwidthBytesPerSecond: config.bandwidthBytesPerSecond,
    maxDownloads: Math.min(config.maxDownloads, config.maxDownloadsPerPackage),
  };
}
