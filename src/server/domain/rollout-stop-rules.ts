import { ACTIVE_STATES, ERROR_STATES, type ActionState } from './action-state.js';
import type { RolloutSettings } from './rollout-settings.js';

/** How many of a batch's actions are in each state. */
export type StateCounts = Partial<Record<ActionState, number>>;

/** A batch's actions, summed the way the stop rules count them (docs/rollouts.md). */
export interface BatchTally {
  readonly total: number;
  readonly canceled: number;
  readonly succeeded: number;
  readonly errors: number;
  readonly active: number;
  readonly queued: number;
  /** Actions that count for percentages: every one not canceled. */
  readonly counted: number;
  /** Succeeded or erred: finished and counted. */
  readonly finished: number;
}

export function tally(counts: StateCounts = {}): BatchTally {
  const sum = (states: readonly ActionState[]) => states.reduce((n, s) => n + (counts[s] ?? 0), 0);
  const total = Object.values(counts).reduce((a, b) => a + (b ?? 0), 0);
  const canceled = counts.canceled ?? 0;
  const succeeded = counts.succeeded ?? 0;
  const errors = sum(ERROR_STATES);
  return {
    total,
    canceled,
    succeeded,
    errors,
    active: sum(ACTIVE_STATES),
    queued: counts.queued ?? 0,
    counted: total - canceled,
    finished: succeeded + errors,
  };
}

export interface RolloutProgress {
  readonly currentBatch: number;
  readonly batchCount: number;
  /** State counts per batch number. */
  readonly batches: ReadonlyMap<number, StateCounts>;
  /** The highest batch an operator approved by resuming (-1: none). */
  readonly approvedBatch: number;
  /** Errors per batch an operator accepted by resuming. */
  readonly errorAck: Readonly<Record<string, number>>;
  /** End of the current batch's soak, when it began. */
  readonly soakUntil: number | null;
  readonly now: number;
}

export type StopDecision =
  | { readonly kind: 'wait' }
  | { readonly kind: 'pause'; readonly reason: string }
  | { readonly kind: 'soak'; readonly until: number }
  | { readonly kind: 'advance' }
  | { readonly kind: 'complete' };

/**
 * What a running rollout does next, from its counts alone. Order matters: the error threshold
 * of every started batch first (a straggler batch can still stop the rollout), then the
 * current batch's success threshold, soak time and approval.
 */
export function decide(progress: RolloutProgress, settings: RolloutSettings): StopDecision {
  const { currentBatch, batchCount, batches } = progress;
  const tallies = new Map([...batches].map(([b, counts]) => [b, tally(counts)]));
  const last = currentBatch >= batchCount - 1;
  const queued = [...tallies.values()].some((t) => t.queued > 0);

  // Stop rules protect devices that have not received the package yet: with none left, a
  // pause would change nothing, and the rollout simply finishes.
  if (!last || queued) {
    for (let b = 0; b <= currentBatch; b++) {
      const reason = errorRule(b, tallies.get(b) ?? tally(), settings, progress.errorAck[b] ?? 0);
      if (reason) return { kind: 'pause', reason };
    }
  }

  if (last) {
    const active = [...tallies.values()].some((t) => t.active > 0);
    return active ? { kind: 'wait' } : { kind: 'complete' };
  }

  const current = tallies.get(currentBatch) ?? tally();
  const approved = progress.approvedBatch >= currentBatch;
  const reached = current.succeeded * 100 >= settings.successThreshold * current.counted;
  if (!reached) {
    if (current.active > 0) return { kind: 'wait' };
    if (approved) return { kind: 'advance' };
    return {
      kind: 'pause',
      reason:
        `batch ${currentBatch + 1}: success threshold not reached: ${current.succeeded} of ` +
        `${current.counted} succeeded (${pct(current.succeeded, current.counted)}), ` +
        `${settings.successThreshold}% needed`,
    };
  }

  if (settings.soakSeconds > 0 && !approved) {
    if (progress.soakUntil === null) {
      return { kind: 'soak', until: progress.now + settings.soakSeconds * 1000 };
    }
    if (progress.now < progress.soakUntil) return { kind: 'wait' };
  }
  if (settings.afterBatch === 'pause' && !approved) {
    return {
      kind: 'pause',
      reason:
        `batch ${currentBatch + 1} reached the success threshold (${current.succeeded} of ` +
        `${current.counted} succeeded): waiting for approval (resume to go on)`,
    };
  }
  return { kind: 'advance' };
}

/** The error threshold of one batch: a reason to pause, or null. */
function errorRule(
  batch: number,
  t: BatchTally,
  settings: RolloutSettings,
  acknowledged: number,
): string | null {
  const threshold = settings.errorThreshold;
  if (threshold === null || t.errors === 0 || t.errors <= acknowledged) return null;
  if (t.finished < Math.min(settings.errorMinFinished, t.counted)) return null;

  const crossed =
    typeof threshold === 'number'
      ? t.errors >= threshold
      : t.errors * 100 >= parseFloat(threshold) * t.finished;
  if (!crossed) return null;
  return (
    `batch ${batch + 1}: error threshold reached: ${t.errors} of ${t.finished} finished ` +
    `failed (${pct(t.errors, t.finished)}), threshold ${threshold}`
  );
}

function pct(part: number, whole: number): string {
  return whole === 0 ? '0%' : `${Math.round((part * 1000) / whole) / 10}%`;
}
