/**
 * The per-device action states the server reports (docs/rollouts.md), in the order a device
 * passes through them. States a newer server adds are shown after these, in a neutral colour.
 */
export const KNOWN_STATES = [
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
] as const;

export const ERROR_STATES: readonly string[] = ['failed', 'rolled_back', 'timed_out'];
export const TERMINAL_STATES: readonly string[] = ['succeeded', ...ERROR_STATES, 'canceled'];
export const WORKING_STATES: readonly string[] = [
  'sent',
  'accepted',
  'downloading',
  'downloaded',
  'installing',
  'restarting',
];

/** Count keys in journey order, unknown ones last. */
export function orderedStates(counts: Record<string, number>): string[] {
  const known: readonly string[] = KNOWN_STATES;
  const extra = Object.keys(counts)
    .filter((s) => !known.includes(s))
    .sort();
  return [...known.filter((s) => s in counts), ...extra];
}

export function stateLabel(state: string): string {
  return state.replace(/_/g, ' ');
}

export interface Progress {
  total: number;
  finished: number;
  succeeded: number;
  errors: number;
  working: number;
}

export function progressOf(counts: Record<string, number>): Progress {
  const sum = (states: readonly string[]) => states.reduce((n, s) => n + (counts[s] ?? 0), 0);
  return {
    total: Object.values(counts).reduce((n, c) => n + c, 0),
    finished: sum(TERMINAL_STATES),
    succeeded: counts.succeeded ?? 0,
    errors: sum(ERROR_STATES),
    working: sum(WORKING_STATES),
  };
}
