import type { FleetSummary } from './fleet-summary.js';

/** What the simulator reads of a rollout (`GET /api/v1/rollouts/:id`, docs/rollouts.md). */
export interface RolloutCounts {
  readonly id: number;
  readonly status: string;
  readonly counts: Record<string, number>;
}

const TERMINAL = new Set(['completed', 'canceled']);

export async function fetchRollout(
  serverUrl: string,
  token: string,
  id: number,
): Promise<RolloutCounts> {
  const response = await fetch(`${serverUrl}/api/v1/rollouts/${id}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (!response.ok) throw new Error(`rollout ${id}: the server answered ${response.status}`);
  const view = (await response.json()) as RolloutCounts;
  return { id: view.id, status: view.status, counts: view.counts };
}

/** Polls until the rollout is completed or canceled; resolves with its last view. */
export async function waitForRollout(
  serverUrl: string,
  token: string,
  id: number,
  until: { readonly timeoutMs: number; readonly stopped: () => boolean },
): Promise<RolloutCounts | null> {
  const end = Date.now() + until.timeoutMs;
  let last: RolloutCounts | null = null;
  while (Date.now() < end && !until.stopped()) {
    last = await fetchRollout(serverUrl, token, id).catch(() => last);
    if (last && TERMINAL.has(last.status)) return last;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return last;
}

export interface CountComparison {
  /** Succeeded, unsuccessful (failed + rolled back), canceled and timed out agree. */
  readonly matches: boolean;
  /** Every row agrees, the failed / rolled back split included. */
  readonly exact: boolean;
  /** Per outcome: what the simulated devices say, what the server counted. */
  readonly rows: readonly { state: string; simulator: number; server: number }[];
}

/**
 * Sets the simulator's outcomes beside the server's action counts. The server records a
 * rejected command as failed. The failed / rolled back split may differ without either side
 * being wrong: the server counts a download complete once it has sent the last byte, while a
 * device whose connection broke with those bytes still in flight never got them.
 * `rolloutStatus` is the rollout's status as the server gives it.
 */
export function compareWithServer(
  summary: FleetSummary,
  counts: Record<string, number>,
  rolloutStatus?: string,
): CountComparison {
  const s = summary.states;
  const server = (state: string): number => counts[state] ?? 0;
  // A canceled rollout ends the actions it never sent as `canceled`; their devices, never
  // told anything, are idle in the simulator.
  const canceledIdle = rolloutStatus === 'canceled' ? s.idle : 0;
  const rows = [
    { state: 'succeeded', simulator: s.succeeded, server: server('succeeded') },
    { state: 'failed', simulator: s.failed + s.rejected, server: server('failed') },
    { state: 'rolled_back', simulator: s.rolled_back, server: server('rolled_back') },
    { state: 'canceled', simulator: s.canceled + canceledIdle, server: server('canceled') },
    // A device still working when the simulation ended is one the server would time out.
    { state: 'timed_out', simulator: s.working, server: server('timed_out') },
  ];
  const [succeeded, failed, rolledBack, canceled, timedOut] = rows;
  const agree = (r: { simulator: number; server: number }) => r.simulator === r.server;
  const unsuccessful =
    failed.simulator + rolledBack.simulator === failed.server + rolledBack.server;
  return {
    matches: agree(succeeded) && unsuccessful && agree(canceled) && agree(timedOut),
    exact: rows.every(agree),
    rows,
  };
}
