import type { Kysely } from 'kysely';

/**
 * Rollout engine state that issue 4 added: the plan shown before the start (batch sizes,
 * pacing, expected duration), the batch an operator approved by resuming, and the errors per
 * batch an operator accepted by resuming (so the same errors do not pause the rollout again).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('rollouts').addColumn('plan', 'text').execute();
  await db.schema
    .alterTable('rollouts')
    .addColumn('approved_batch', 'integer', (c) => c.notNull().defaultTo(-1))
    .execute();
  await db.schema
    .alterTable('rollouts')
    .addColumn('error_ack', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();
  // Admission looks for queued actions whose retry time has come, rollout by rollout.
  await db.schema
    .createIndex('actions_rollout_state_retry')
    .on('actions')
    .columns(['rollout_id', 'state', 'retry_at'])
    .execute();
  // Pacing counts the downloads in flight across all rollouts on every pass.
  await db.schema
    .createIndex('actions_state_rollout')
    .on('actions')
    .columns(['state', 'rollout_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('actions_state_rollout').execute();
  await db.schema.dropIndex('actions_rollout_state_retry').execute();
  for (const column of ['error_ack', 'approved_batch', 'plan']) {
    await db.schema.alterTable('rollouts').dropColumn(column).execute();
  }
}
