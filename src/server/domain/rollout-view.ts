import type { Kysely, Selectable } from 'kysely';
import type { Database, RolloutsTable } from '../store/schema.js';
import { ACTION_STATES, type ActionState } from './action-state.js';
import { batchStateCounts } from './batch-state-counts.js';
import type { PackageView } from './package-service.js';
import type { RolloutPlan } from './rollout-plan.js';
import { storedSettings, type RolloutSettings } from './rollout-settings.js';
import type { RolloutTarget } from './rollout-target.js';

/** Stored rollout statuses; never change a value's meaning. */
export type RolloutStatus = 'running' | 'paused' | 'completed' | 'canceled';
export const ROLLOUT_STATUSES: readonly RolloutStatus[] = [
  'running',
  'paused',
  'completed',
  'canceled',
];

export interface BatchView {
  readonly batch: number;
  readonly size: number;
  readonly canary: boolean;
  /** Started: its devices may be sent commands (it is the current batch or an earlier one). */
  readonly started: boolean;
  readonly counts: Partial<Record<ActionState, number>>;
}

/** A rollout as the API shows it: `GET /api/v1/rollouts/:id` (docs/rollouts.md). */
export interface RolloutView {
  readonly id: number;
  readonly name: string;
  readonly status: RolloutStatus;
  readonly package: { id: number; app: string; version: string; size: number };
  readonly target: RolloutTarget;
  readonly settings: RolloutSettings;
  readonly currentBatch: number;
  readonly batchCount: number;
  readonly pauseReason: string | null;
  readonly createdBy: string;
  readonly createdAt: number;
  readonly finishedAt: number | null;
  /** When the current batch's soak time ends (null: not soaking). */
  readonly soakUntil: number | null;
  readonly counts: Record<ActionState, number>;
  readonly batches: BatchView[];
  /** The plan made at creation (batches, pacing, expected duration); null for old rollouts. */
  readonly plan: RolloutPlan | null;
}

/** Builds the view of a rollout row: one grouped count query, whatever the fleet size. */
export async function rolloutView(
  db: Kysely<Database>,
  row: Selectable<RolloutsTable>,
  pkg: PackageView | null,
): Promise<RolloutView> {
  const grouped = await batchStateCounts(db, Number(row.id));
  const plan = row.plan ? (JSON.parse(row.plan) as RolloutPlan) : null;
  const counts = Object.fromEntries(ACTION_STATES.map((s) => [s, 0])) as Record<
    ActionState,
    number
  >;
  const batches = new Map<number, BatchView>();
  const batchOf = (batch: number) => {
    let b = batches.get(batch);
    if (!b) {
      const canary = plan?.batches[batch]?.canary ?? false;
      b = { batch, size: 0, canary, started: batch <= row.current_batch, counts: {} };
      batches.set(batch, b);
    }
    return b as { size: number; counts: Partial<Record<ActionState, number>> };
  };
  for (const [batch, states] of grouped) {
    const b = batchOf(batch);
    for (const [state, n] of Object.entries(states) as [ActionState, number][]) {
      counts[state] += n;
      b.size += n;
      b.counts[state] = n;
    }
  }
  return {
    id: Number(row.id),
    name: row.name,
    status: row.status as RolloutStatus,
    package: pkg
      ? { id: pkg.id, app: pkg.app, version: pkg.version, size: pkg.size }
      : { id: row.package_id, app: '(deleted)', version: '', size: 0 },
    target: JSON.parse(row.target) as RolloutTarget,
    settings: storedSettings(row.settings),
    currentBatch: row.current_batch,
    batchCount: row.batch_count,
    pauseReason: row.pause_reason,
    createdBy: row.created_by,
    createdAt: Number(row.created_at),
    finishedAt: row.finished_at === null ? null : Number(row.finished_at),
    soakUntil:
      row.status === 'running' && row.next_step_at !== null ? Number(row.next_step_at) : null,
    counts,
    batches: [...batches.values()].sort((a, b) => a.batch - b.batch),
    plan,
  };
}
