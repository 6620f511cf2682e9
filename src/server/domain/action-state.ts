/**
 * The per-device action state machine (docs/rollouts.md, "States"). Stored values: never
 * rename one or change its meaning.
 *
 *   queued → sent → accepted → downloading → downloaded → installing → restarting → succeeded
 *   any active state           → failed | rolled_back | timed_out | canceled
 *   sent … restarting          → queued   (a retry: the next send is a new attempt)
 *
 * Progress moves forward only: a report for an earlier step than the current one (duplicate or
 * out of order) changes nothing. `succeeded` is reached only from a report of the target
 * version after the device restarted. Terminal states never change again.
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

/** States in which the device holds or works on a command (or will be sent one). */
export const ACTIVE_STATES: readonly ActionState[] = [
  'queued',
  'sent',
  'accepted',
  'downloading',
  'downloaded',
  'installing',
  'restarting',
];

/** Active states after the command went out: the device may be working on it. */
export const WORKING_STATES: readonly ActionState[] = ACTIVE_STATES.filter((s) => s !== 'queued');

/**
 * States that hold a download slot: the device has (or may fetch at any moment) the URL and
 * has not received the whole package yet. Pacing admits new sends only into free slots.
 */
export const IN_FLIGHT_STATES: readonly ActionState[] = ['sent', 'accepted', 'downloading'];

/** States that count against the error threshold. */
export const ERROR_STATES: readonly ActionState[] = ['failed', 'rolled_back', 'timed_out'];

/**
 * The step an action is in, each with its own deadline (rollout settings): `ack` until the
 * device starts, `download` until the whole package arrived, `confirm` until the post-restart
 * report. A queued action's deadline only applies while its device stays offline.
 */
export type ActionStep = 'admission' | 'ack' | 'download' | 'confirm';

export function stepOf(state: ActionState): ActionStep | null {
  if (state === 'queued') return 'admission';
  if (state === 'sent' || state === 'accepted') return 'ack';
  if (state === 'downloading') return 'download';
  if (state === 'downloaded' || state === 'installing' || state === 'restarting') {
    return 'confirm';
  }
  return null;
}

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
  if (next === 'queued') return current !== 'queued';
  return (PROGRESS_RANK[next] ?? -1) > (PROGRESS_RANK[current] ?? 99);
}
