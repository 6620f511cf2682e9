import { TiotaError } from '../errors.js';

/** A device count (`5`) or a share of devices (`"10%"`). */
export type Quantity = number | `${number}%`;

export type BatchStrategy = 'fixed' | 'percentage' | 'exponential';

/** What happens when a batch reaches its success threshold. */
export type AfterBatch = 'advance' | 'pause';

/**
 * How a rollout proceeds. Every field has a default, so `{}` is a valid setting; the defaults
 * are chosen so that a bad package reaches a handful of devices at most (docs/rollouts.md).
 */
export interface RolloutSettings {
  /** First batch, alone: a count or a percent of the target; 0 = no canary. Default 5. */
  readonly canary: Quantity;
  /** How the batches after the canary grow. Default `exponential`. */
  readonly batchStrategy: BatchStrategy;
  /**
   * `fixed`: devices per batch; `exponential`: devices in the first batch after the canary.
   * 0 = every remaining device in one batch. Default 50.
   */
  readonly batchSize: number;
  /** `percentage`: percent of the target per batch. Default 10. */
  readonly batchPercent: number;
  /** `exponential`: each batch is this many times the previous one. Default 2. */
  readonly growthFactor: number;
  /** Largest batch, any strategy; 0 = no limit. Default 0. */
  readonly maxBatchSize: number;
  /** Seconds to wait after a batch reached its success threshold. Default 60. */
  readonly soakSeconds: number;
  /** Devices downloading at once; 0 = as many as pacing allows. Default 0. */
  readonly maxConcurrentDownloads: number;
  /** Each command is published after a random delay of up to this many seconds. Default 0. */
  readonly jitterSeconds: number;
  /** Seconds for a device to start on a command (or, offline, to come back). Default 300. */
  readonly ackTimeoutSeconds: number;
  /** Seconds from the start of the download to its end. Default 600. */
  readonly downloadTimeoutSeconds: number;
  /** Seconds from the end of the download to the post-restart report. Default 600. */
  readonly confirmTimeoutSeconds: number;
  /** Further attempts after a failure or timeout (never after a rollback). Default 2. */
  readonly maxRetries: number;
  /** Wait before the first retry, seconds; doubles with each attempt. Default 60. */
  readonly retryBackoffSeconds: number;
  /**
   * Pause when a batch's errors reach this count or this percent of its finished devices;
   * null = never. Default `"10%"`.
   */
  readonly errorThreshold: Quantity | null;
  /** The error threshold applies once this many devices of the batch finished. Default 5. */
  readonly errorMinFinished: number;
  /** Percent of a batch's devices (canceled ones aside) that must succeed. Default 95. */
  readonly successThreshold: number;
  /** `advance` to the next batch, or `pause` for approval. Default `advance`. */
  readonly afterBatch: AfterBatch;
}

export const DEFAULT_SETTINGS: RolloutSettings = {
  canary: 5,
  batchStrategy: 'exponential',
  batchSize: 50,
  batchPercent: 10,
  growthFactor: 2,
  maxBatchSize: 0,
  soakSeconds: 60,
  maxConcurrentDownloads: 0,
  jitterSeconds: 0,
  ackTimeoutSeconds: 300,
  downloadTimeoutSeconds: 600,
  confirmTimeoutSeconds: 600,
  maxRetries: 2,
  retryBackoffSeconds: 60,
  errorThreshold: '10%',
  errorMinFinished: 5,
  successThreshold: 95,
  afterBatch: 'advance',
};

type Check = (key: string, value: unknown) => unknown;

const count: Check = (key, value) => {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  throw invalid(key, 'a whole number ≥ 0');
};
const seconds: Check = (key, value) => {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  throw invalid(key, 'a number of seconds ≥ 0');
};
const deadline: Check = (key, value) => {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
  throw invalid(key, 'a number of seconds > 0');
};
const percent: Check = (key, value) => {
  if (typeof value === 'number' && value >= 0 && value <= 100) return value;
  throw invalid(key, 'a percent from 0 to 100');
};
const quantity: Check = (key, value) => {
  if (typeof value === 'string' && /^\d+(\.\d+)?%$/.test(value) && parseFloat(value) <= 100) {
    return value;
  }
  if (typeof value === 'number') return count(key, value);
  throw invalid(key, 'a device count (5) or a percent ("10%")');
};
const oneOf =
  (...allowed: string[]): Check =>
  (key, value) => {
    if (typeof value === 'string' && allowed.includes(value)) return value;
    throw invalid(key, `one of ${allowed.join(', ')}`);
  };

const CHECKS: Record<keyof RolloutSettings, Check> = {
  canary: quantity,
  batchStrategy: oneOf('fixed', 'percentage', 'exponential'),
  batchSize: count,
  batchPercent: (key, value) => {
    if (typeof value === 'number' && value > 0 && value <= 100) return value;
    throw invalid(key, 'a percent above 0, at most 100');
  },
  growthFactor: (key, value) => {
    if (typeof value === 'number' && value >= 1 && value <= 100) return value;
    throw invalid(key, 'a factor from 1 to 100');
  },
  maxBatchSize: count,
  soakSeconds: seconds,
  maxConcurrentDownloads: count,
  jitterSeconds: seconds,
  ackTimeoutSeconds: deadline,
  downloadTimeoutSeconds: deadline,
  confirmTimeoutSeconds: deadline,
  maxRetries: (key, value) => {
    if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 20) {
      return value;
    }
    throw invalid(key, 'a whole number from 0 to 20');
  },
  retryBackoffSeconds: seconds,
  errorThreshold: (key, value) => (value === null ? null : quantity(key, value)),
  errorMinFinished: count,
  successThreshold: percent,
  afterBatch: oneOf('advance', 'pause'),
};

/** Validates settings from the API, filling in defaults for what is not given. */
export function parseSettings(input: unknown): RolloutSettings {
  const given = input ?? {};
  if (typeof given !== 'object' || Array.isArray(given)) {
    throw new TiotaError('validation_failed', 'settings must be an object');
  }
  const settings: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const [key, value] of Object.entries(given)) {
    const check = CHECKS[key as keyof RolloutSettings];
    if (!check) throw new TiotaError('validation_failed', `unknown rollout setting "${key}"`);
    settings[key] = check(key, value);
  }
  return settings as unknown as RolloutSettings;
}

/**
 * Settings as stored with a rollout. Rollouts created before a setting existed get its
 * default, so stored rows never need rewriting.
 */
export function storedSettings(json: string): RolloutSettings {
  return { ...DEFAULT_SETTINGS, ...(JSON.parse(json) as Partial<RolloutSettings>) };
}

/** A quantity as devices out of `total`: percents round up, so "1%" of 50 is 1 device. */
export function resolveQuantity(q: Quantity, total: number): number {
  if (typeof q === 'number') return Math.min(q, total);
  return Math.min(total, Math.ceil((parseFloat(q) * total) / 100 - 1e-9));
}

function invalid(key: string, what: string): TiotaError {
  return new TiotaError('validation_failed', `rollout setting "${key}" must be ${what}`);
}
