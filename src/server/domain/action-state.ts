/**
 * The per-device action state machine (docs/rollouts.md). Stored values: never rename one or
 * change its meaning.
 *
 *   queued → sent → accepted → downloading → downloaded → installing → restarting
 *   any non-terminal → succeeded | failed | rolled_back | timed_out | canceled
 *
 * Progress moves forward only: a report for an earlier step than the current one (duplicate or
 * out of order) changes nothing. `succeeded` is reached only from a report of the target
 * version after the device restarted.
 */
export type ActionState =
  | 'queued'
  | 'sent'
  | 'accepted'
  | 'downloading'
  | 'downloaded'
  | 'installing'
  | 'restarting'
  | 'succeeded'
  | 'failed'
  | 'rolled_back'
  | 'timed_out'
  | 'canceled';

export const ACTION_STATES: readonly ActionState[] = [
  'queued',
  'sent',
  'accepted',
  'downloading',
  'downloaded',
  'installing',
  'restarting',
  'succeeded',
  'failed',
  'rolled_back',
  'timed_out',
  'canceled',
];

const PROGRESS_RANK: Partial<Record<ActionState, number>> = {
  queued: 0,
  sent: 1,
  accepted: 2,
  downloading: 3,
  downloaded: 4,
  installing: 5,
  restarting: 6,
};

export const TERMINAL_STATES: readonly ActionState[] = [
  'succeeded',
  'failed',
  'rolled_back',
  'timed_out',
  'canceled',
];

/** States in which the device holds or works on a command. */
export const ACTIVE_STATES: readonly ActionState[] = [
  'queued',
  'sent',
  'accepted',
  'downloading',
  'downloaded',
  'installing',
  'restarting',
];

/** States that count against the error threshold. */
export const ERROR_STATES: readonly ActionState[] = ['failed', 'rolled_back', 'timed_out'];

export function isTerminal(state: ActionState): boolean {
  return TERMINAL_STATES.includes(state);
}

/** Whether the device has begun working on its command (so it can no longer be superseded). */
export function hasStarted(state: ActionState): boolean {
  return (PROGRESS_RANK[state] ?? 99) >= PROGRESS_RANK.downloading!;
}

/** Whether `next` is a legal move from `current`. */
export function canMove(current: ActionState, next: ActionState): boolean {
  if (isTerminal(current)) return false;
  if (isTerminal(next)) return true;
  return (PROGRESS_RANK[next] ?? -1) > (PROGRESS_RANK[current] ?? 99);
}
