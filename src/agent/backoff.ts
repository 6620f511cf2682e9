/** Reconnect and retry delays: exponential, capped, with jitter so a fleet does not stampede. */
export interface BackoffPolicy {
  /** First delay, milliseconds (default 1000). */
  readonly baseMs: number;
  /** Largest delay, milliseconds (default 60000). */
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1000, maxMs: 60_000 };

/**
 * Delay before retry number `attempt` (0 for the first retry): "equal jitter", half fixed and
 * half random, so every device waits at least half the step but thousands of devices that lost
 * the broker at the same instant spread their reconnects over the other half.
 */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const step = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(step / 2 + random() * (step / 2));
}
