import type { ActionState } from './action-state.js';
import type { ActionChange } from './action-store.js';
import type { RolloutSettings } from './rollout-settings.js';

/** The longest wait between attempts, whatever the backoff doubles to. */
const MAX_BACKOFF_MS = 3600_000;

/**
 * Failures that another attempt cannot fix. A rollback means the package itself failed on the
 * device (it may be assigned again by a later rollout); a rejection means the device refused
 * it (signature, hash, wrong app); a device that canceled did so on purpose.
 */
const FINAL: readonly ActionState[] = ['rolled_back', 'canceled', 'succeeded'];

/**
 * What a failure or timeout does to an action: with attempts left (rollout setting
 * `maxRetries`) the action is queued again after an exponential backoff, and its next send is
 * a new attempt with a new command id; otherwise it ends in `outcome`.
 */
export function failureChange(
  action: { readonly attempt: number },
  outcome: ActionState,
  errorCode: string | null,
  settings: RolloutSettings,
  now: number,
  permanent = false,
): ActionChange {
  const retriesUsed = Math.max(action.attempt - 1, 0);
  if (permanent || FINAL.includes(outcome) || retriesUsed >= settings.maxRetries) {
    return { state: outcome, errorCode };
  }
  const backoff = Math.min(settings.retryBackoffSeconds * 1000 * 2 ** retriesUsed, MAX_BACKOFF_MS);
  const retryAt = now + backoff;
  return {
    state: 'queued',
    errorCode,
    retryAt,
    // Queued again: if the device stays offline it times out a step later (docs/rollouts.md).
    deadlineAt: retryAt + settings.ackTimeoutSeconds * 1000,
  };
}
