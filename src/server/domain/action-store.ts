import type { Kysely, Selectable } from 'kysely';
import type { ActionsTable, Database } from '../store/schema.js';
import { canMove, isTerminal, type ActionState } from './action-state.js';

export type ActionRow = Selectable<ActionsTable>;

export interface ActionChange {
  readonly state: ActionState;
  readonly errorCode?: string | null;
  readonly errorDetail?: string | null;
  readonly deadlineAt?: number | null;
  readonly sentAt?: number;
  readonly attempt?: number;
  readonly commandId?: string;
  /** When a queued retry may be sent. */
  readonly retryAt?: number | null;
}

/**
 * Moves an action from the state it was read in to another. The update is conditional on the
 * old state, so two handlers racing (replicas, a duplicate report) apply it at most once:
 * returns false when the action had already moved.
 */
export async function moveAction(
  db: Kysely<Database>,
  action: Pick<ActionRow, 'id' | 'state'>,
  change: ActionChange,
  now: number,
): Promise<boolean> {
  if (!canMove(action.state as ActionState, change.state)) return false;
  const result = await db
    .updateTable('actions')
    .set(changeSet(change, now))
    .where('id', '=', action.id)
    .where('state', '=', action.state)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** The columns a change writes; also what the row looks like after it (action-move-batch.ts). */
export function changeSet(change: ActionChange, now: number): Partial<ActionRow> {
  const terminal = isTerminal(change.state);
  return {
    state: change.state,
    updated_at: now,
    ...(change.errorCode !== undefined && { error_code: change.errorCode }),
    ...(change.errorDetail !== undefined && { error_detail: change.errorDetail }),
    ...(change.deadlineAt !== undefined && { deadline_at: change.deadlineAt }),
    ...(change.sentAt !== undefined && { sent_at: change.sentAt }),
    ...(change.attempt !== undefined && { attempt: change.attempt }),
    ...(change.commandId !== undefined && { command_id: change.commandId }),
    ...(change.retryAt !== undefined && { retry_at: change.retryAt }),
    ...(terminal && { finished_at: now, deadline_at: null }),
  };
}

export async function actionById(db: Kysely<Database>, id: number): Promise<ActionRow | undefined> {
  return db.selectFrom('actions').selectAll().where('id', '=', id).executeTakeFirst();
}
