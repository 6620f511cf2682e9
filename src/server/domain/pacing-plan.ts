import type { RolloutSettings } from './rollout-settings.js';

/**
 * Seconds a device profile allows for the whole download and install. TiJOS: the OTA app gives
 * up 60 s after it starts the download and reboots into the old app (TIJOS.md, step 6).
 * Profiles not listed (the agent resumes cut downloads) get the rollout's download timeout.
 * A device that never told its profile is treated as the strictest one.
 */
export const PROFILE_DEADLINE_SECONDS: Readonly<Record<string, number>> = { tijos: 60 };

/** Share of a hard deadline the transfer may use: the rest is left for writing and activating. */
export const TRANSFER_SHARE = 0.75;

/** What estimates assume a device needs from the end of its download to its report. */
export const RESTART_ALLOWANCE_SECONDS = 30;

export interface Pacing {
  /** The profile whose deadline rules (the strictest among the targeted devices). */
  readonly profile: string;
  readonly deadlineSeconds: number;
  /** Seconds each download may take so that the device still finishes in time. */
  readonly transferBudgetSeconds: number;
  /** The rate each download needs to finish within its budget, bytes/s. */
  readonly bytesPerSecondPerDownload: number;
  readonly bandwidthBytesPerSecond: number;
  /** Devices admitted to download at once. */
  readonly maxConcurrentDownloads: number;
  /** Which limit set that number. */
  readonly limitedBy: 'bandwidth' | 'setting' | 'server';
  readonly warnings: readonly string[];
}

export interface PacingInput {
  readonly packageSize: number;
  readonly bandwidthBytesPerSecond: number;
  /** Profiles of the targeted devices (null when a device did not say). */
  readonly profiles: readonly (string | null)[];
  readonly settings: RolloutSettings;
  /** The download server's own cap on transfers in flight. */
  readonly serverCap: number;
}

/**
 * How many devices may download at once: never more than can share the configured bandwidth
 * and each still receive the whole package within its profile's deadline.
 */
export function pacingFor(input: PacingInput): Pacing {
  const { profile, deadlineSeconds } = strictestProfile(input.profiles, input.settings);
  const hard = profile in PROFILE_DEADLINE_SECONDS;
  const budget = hard ? deadlineSeconds * TRANSFER_SHARE : deadlineSeconds;
  const size = Math.max(input.packageSize, 1);
  const bandwidth = Math.max(input.bandwidthBytesPerSecond, 1);
  const warnings: string[] = [];

  // n downloads sharing bandwidth B each take size·n/B seconds: n ≤ B·budget/size.
  const byBandwidth = Math.floor((bandwidth * budget) / size);
  if (byBandwidth < 1) {
    warnings.push(
      `one download alone takes ${(size / bandwidth).toFixed(1)} s at the configured bandwidth ` +
        `(${bandwidth} bytes/s), more than the ${budget.toFixed(0)} s a ${profile} device allows: ` +
        'raise --bandwidth (TIOTA_BANDWIDTH) if the server really has more, or ship a smaller package',
    );
  }
  const limits: [number, Pacing['limitedBy']][] = [
    [Math.max(byBandwidth, 1), 'bandwidth'],
    [input.settings.maxConcurrentDownloads || Infinity, 'setting'],
    [input.serverCap > 0 ? input.serverCap : Infinity, 'server'],
  ];
  const [max, limitedBy] = limits.reduce((a, b) => (b[0] < a[0] ? b : a));
  return {
    profile,
    deadlineSeconds,
    transferBudgetSeconds: budget,
    bytesPerSecondPerDownload: size / budget,
    bandwidthBytesPerSecond: bandwidth,
    maxConcurrentDownloads: max,
    limitedBy,
    warnings,
  };
}

function strictestProfile(
  profiles: readonly (string | null)[],
  settings: RolloutSettings,
): { profile: string; deadlineSeconds: number } {
  let strictest = { profile: 'agent', deadlineSeconds: settings.downloadTimeoutSeconds };
  for (const p of new Set(profiles)) {
    const name = p ?? 'tijos';
    const deadline = PROFILE_DEADLINE_SECONDS[name] ?? settings.downloadTimeoutSeconds;
    if (deadline < strictest.deadlineSeconds)
      strictest = { profile: name, deadlineSeconds: deadline };
  }
  return strictest;
}

/**
 * Expected seconds for each batch: the batch's bytes at the full configured bandwidth, one
 * restart allowance, the mean jitter, and the soak time before the next batch. An estimate
 * for planning: real devices on slow links take longer.
 */
export function expectedBatchSeconds(
  sizes: readonly number[],
  packageSize: number,
  pacing: Pacing,
  settings: RolloutSettings,
): number[] {
  return sizes.map((n, i) => {
    const transfer = (n * packageSize) / pacing.bandwidthBytesPerSecond;
    const soak = i < sizes.length - 1 ? settings.soakSeconds : 0;
    return round1(transfer + RESTART_ALLOWANCE_SECONDS + settings.jitterSeconds / 2 + soak);
  });
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
