import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { ActionState } from './action-state.js';
import type { StateCounts } from './rollout-stop-rules.js';

/**
 * How many of a rollout's actions are in each state, per batch: one grouped count, whatever
 * the fleet size. The engine judges stop rules on it, resume records what it accepted, and the
 * rollout view shows it.
 */
export async function batchStateCounts(
  db: Kysely<Database>,
  rolloutId: number,
): Promise<Map<number, StateCounts>> {
  const rows = await db
    .selectFrom('actions')
    .select(['batch', 'state', (eb) => eb.fn.countAll<number>().as('n')])
    .where('rollout_id', '=', rolloutId)
    .groupBy(['batch', 'state'])
    .execute();
  const batches = new Map<number, StateCounts>();
  for (const r of rows) {
    const counts = batches.get(r.batch) ?? {};
    counts[r.state as ActionState] = Number(r.n);
    batches.set(r.batch, counts);
  }
  return batches;
}
