import { TiotaError } from '../errors.js';

/**
 * How a rollout proceeds. Every field has a default so `{}` is a valid setting; documented in
 * docs/rollouts.md.
 */
export interface RolloutSettings {
  /** Devices in each batch after the canary; 0 = all in one batch. */
  readonly batchSize: number;
  /** Per-step deadline: device must acknowledge/start within this many seconds of sending. */
  readonly ackTimeoutSeconds: number;
  /** Seconds from the start of the download to the post-restart report. */
  readonly confirmTimeoutSeconds: number;
}

export const DEFAULT_SETTINGS: RolloutSettings = {
  batchSize: 0,
  ackTimeoutSeconds: 3600,
  confirmTimeoutSeconds: 600,
};

export function parseSettings(input: unknown): RolloutSettings {
  const given = (input ?? {}) as Record<string, unknown>;
  if (typeof given !== 'object' || Array.isArray(given)) {
    throw new TiotaError('validation_failed', 'settings must be an object');
  }
  const settings: Record<string, number> = { ...DEFAULT_SETTINGS };
  for (const [key, value] of Object.entries(given)) {
    if (!(key in DEFAULT_SETTINGS)) {
      throw new TiotaError('validation_failed', `unknown rollout setting "${key}"`);
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new TiotaError('validation_failed', `rollout setting "${key}" must be a number ≥ 0`);
    }
    settings[key] = value;
  }
  return settings as unknown as RolloutSettings;
}
