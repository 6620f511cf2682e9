import { between, type Random } from './seeded-random.js';

/**
 * Fault settings for the whole fleet (`tiota simulate` options). Each device draws its own
 * faults from them, so a fleet mixes fast and slow links, stable and dropping connections,
 * devices that go offline and devices whose new build crashes.
 */
export interface FaultSettings {
  /** Link speed per device, bytes/s, drawn from [min, max]; null = unshaped. */
  readonly linkSpeed: { readonly min: number; readonly max: number } | null;
  /** Chance that a download response is cut at a random byte (each response, 0–1). */
  readonly dropRate: number;
  /** Share of devices that go offline once (0–1), for `offlineSeconds`. */
  readonly offlineRate: number;
  readonly offlineSeconds: number;
  /** The offline spell starts at a random time this many seconds after the device's start… */
  readonly offlineFromSeconds: number;
  /** …and before this many. */
  readonly offlineWithinSeconds: number;
  /** Each device's clock is off by a random amount in [-skew, +skew] seconds. */
  readonly clockSkewSeconds: number;
  /** Share of devices on which every new build crashes at start (0–1). */
  readonly crashRate: number;
}

export const NO_FAULTS: FaultSettings = {
  linkSpeed: null,
  dropRate: 0,
  offlineRate: 0,
  offlineSeconds: 30,
  offlineFromSeconds: 0,
  offlineWithinSeconds: 60,
  clockSkewSeconds: 0,
  crashRate: 0,
};

/** One device's faults, drawn once when the fleet is built. */
export interface DeviceFaults {
  readonly bytesPerSecond: number | null;
  readonly dropRate: number;
  /** Milliseconds after start when the device goes offline; null = never. */
  readonly offlineAtMs: number | null;
  readonly offlineForMs: number;
  readonly clockSkewMs: number;
  /** Whether new builds crash at start on this device. */
  readonly crashes: boolean;
}

export function drawFaults(settings: FaultSettings, random: Random): DeviceFaults {
  const { linkSpeed } = settings;
  return {
    bytesPerSecond: linkSpeed ? Math.round(between(random, linkSpeed.min, linkSpeed.max)) : null,
    dropRate: settings.dropRate,
    offlineAtMs:
      random() < settings.offlineRate
        ? Math.round(
            between(random, settings.offlineFromSeconds, settings.offlineWithinSeconds) * 1000,
          )
        : null,
    offlineForMs: settings.offlineSeconds * 1000,
    clockSkewMs: Math.round(between(random, -1, 1) * settings.clockSkewSeconds * 1000),
    crashes: random() < settings.crashRate,
  };
}

/** Parses `20000` or `5000-50000` (bytes/s). */
export function parseLinkSpeed(text: string): { min: number; max: number } {
  const match = /^(\d+)(?:-(\d+))?$/.exec(text.trim());
  if (!match) throw new Error(`link speed must be BYTES or MIN-MAX bytes/s, got "${text}"`);
  const min = Number(match[1]);
  const max = match[2] ? Number(match[2]) : min;
  if (min <= 0 || max < min) throw new Error(`link speed range "${text}" is empty or zero`);
  return { min, max };
}
