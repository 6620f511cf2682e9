import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { WORKING_STATES, type ActionState } from './action-state.js';
import { moveMany } from './action-bulk.js';
import { recordActionEvents, type ActionEvent } from './action-events.js';
import { failureChange } from './action-retry.js';
import type { RolloutSettingsCache } from './rollout-settings-cache.js';

/** Late actions handled per pass; the next pass takes the rest. */
const SWEEP_LIMIT = 5000;

interface LateAction {
  readonly id: number;
  readonly state: string;
  readonly attempt: number;
  readonly rollout_id: number;
  readonly device_row_id: number;
}

/**
 * Moves silent devices past their step's deadline to `timed_out`, or back to `queued` for a
 * retry when the rollout allows one. A queued action times out only while its device is
 * offline and its rollout runs: one waiting for a download slot is not late.
 */
export async function sweepDeadlines(
  db: Kysely<Database>,
  settings: RolloutSettingsCache,
  now: number,
): Promise<number> {
  const working = await db
    .selectFrom('actions')
    .select(['id', 'state', 'attempt', 'rollout_id', 'device_row_id'])
    .where('deadline_at', '<', now)
    .where('state', 'in', [...WORKING_STATES])
    .limit(SWEEP_LIMIT)
    .execute();
  const offline = await db
    .selectFrom('actions')
    .innerJoin('devices', 'devices.id', 'actions.device_row_id')
    .innerJoin('rollouts', 'rollouts.id', 'actions.rollout_id')
    .select([
      'actions.id',
      'actions.state',
      'actions.attempt',
      'actions.rollout_id',
      'actions.device_row_id',
    ])
    .where('actions.deadline_at', '<', now)
    .where('actions.state', '=', 'queued')
    .where('devices.online', '=', 0)
    .where('rollouts.status', '=', 'running')
    .limit(SWEEP_LIMIT)
    .execute();
  const late = [...working, ...offline] as LateAction[];
  if (late.length === 0) return 0;

  // Actions that share their state, attempt and rollout get the same change: one statement.
  const groups = new Map<string, LateAction[]>();
  for (const a of late) {
    const key = `${a.rollout_id}|${a.state}|${a.attempt}`;
    groups.set(key, [...(groups.get(key) ?? []), a]);
  }
  const events: ActionEvent[] = [];
  for (const group of groups.values()) {
    const { state, attempt, rollout_id } = group[0];
    const change = failureChange(
      { attempt },
      'timed_out',
      `timeout_${state === 'queued' ? 'offline' : state}`,
      await settings.get(Number(rollout_id)),
      now,
      // Offline all along: another attempt would only wait longer for the same device.
      state === 'queued',
    );
    const ids = group.map((a) => Number(a.id));
    const moved = await moveMany(db, ids, state as ActionState, change, now);
    const kind = change.state === 'queued' ? 'retry' : 'timed_out';
    for (const m of moved) {
      events.push({ deviceRowId: m.deviceRowId, actionId: m.id, kind, detail: { state, attempt } });
    }
  }
  await recordActionEvents(db, events, now);
  return events.length;
}
