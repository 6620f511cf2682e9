import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { canMove, isTerminal, type ActionState } from './action-state.js';
import type { ActionChange } from './action-store.js';

/** Ids per statement: well under SQLite's and PostgreSQL's limits on bound parameters. */
export const ID_CHUNK = 2000;

/**
 * Applies one change to many actions that were all read in state `from`, in a few statements.
 * Like moveAction, each row moves only if it is still in `from`; returns the rows that moved,
 * so a racing report or replica never has its work applied twice.
 */
export async function moveMany(
  db: Kysely<Database>,
  ids: readonly number[],
  from: ActionState,
  change: ActionChange,
  now: number,
): Promise<{ id: number; deviceRowId: number }[]> {
  if (ids.length === 0 || !canMove(from, change.state)) return [];
  const terminal = isTerminal(change.state);
  const moved: { id: number; deviceRowId: number }[] = [];
  for (let i = 0; i < ids.length; i += ID_CHUNK) {
    const rows = await db
      .updateTable('actions')
      .set({
        state: change.state,
        updated_at: now,
        ...(change.errorCode !== undefined && { error_code: change.errorCode }),
        ...(change.deadlineAt !== undefined && { deadline_at: change.deadlineAt }),
        ...(change.retryAt !== undefined && { retry_at: change.retryAt }),
        ...(terminal && { finished_at: now, deadline_at: null }),
      })
      .where('id', 'in', ids.slice(i, i + ID_CHUNK))
      .where('state', '=', from)
      .returning(['id', 'device_row_id'])
      .execute();
    for (const r of rows) moved.push({ id: Number(r.id), deviceRowId: Number(r.device_row_id) });
  }
  return moved;
}
