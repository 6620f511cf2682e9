import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { ACTIVE_STATES, hasStarted, type ActionState } from './action-state.js';
import { ID_CHUNK } from './action-bulk.js';

/** An action whose device holds its command and must be told it is canceled. */
export interface CanceledCommand {
  readonly actionId: number;
  readonly attempt: number;
  readonly deviceRowId: number;
}

/**
 * A device is in at most one active rollout for the same app: a newer assignment cancels
 * (reason `superseded`) the older actions of that app the device has not started, so it
 * receives only the newest command. An older action already under way is left to finish; the
 * newer one waits (the engine sends no device two commands at once). Returns the canceled
 * actions whose command was already sent, so their devices can be told.
 */
export async function supersedeOlder(
  trx: Kysely<Database>,
  app: string,
  deviceRowIds: readonly number[],
  now: number,
): Promise<CanceledCommand[]> {
  const told: CanceledCommand[] = [];
  for (let i = 0; i < deviceRowIds.length; i += ID_CHUNK) {
    const older = await trx
      .selectFrom('actions')
      .innerJoin('packages', 'packages.id', 'actions.package_id')
      .select(['actions.id', 'actions.state', 'actions.attempt', 'actions.device_row_id'])
      .where('actions.device_row_id', 'in', deviceRowIds.slice(i, i + ID_CHUNK))
      .where('actions.state', 'in', [...ACTIVE_STATES])
      .where('packages.app_name', '=', app)
      .execute();
    const notStarted = older.filter((a) => !hasStarted(a.state as ActionState));
    for (const state of new Set(notStarted.map((a) => a.state))) {
      const ids = notStarted.filter((a) => a.state === state).map((a) => Number(a.id));
      const moved = await trx
        .updateTable('actions')
        .set({
          state: 'canceled',
          error_code: 'superseded',
          finished_at: now,
          updated_at: now,
          deadline_at: null,
        })
        .where('id', 'in', ids)
        .where('state', '=', state)
        .returning(['id', 'attempt', 'device_row_id'])
        .execute();
      if (state === 'queued') continue; // never sent: nothing to tell
      for (const a of moved) {
        told.push({
          actionId: Number(a.id),
          attempt: a.attempt,
          deviceRowId: Number(a.device_row_id),
        });
      }
    }
  }
  return told;
}
