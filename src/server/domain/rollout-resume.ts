import type { Kysely, Selectable } from 'kysely';
import type { Database, RolloutsTable } from '../store/schema.js';
import type { ActionState } from './action-state.js';
import { storedSettings } from './rollout-settings.js';
import { tally, type StateCounts } from './rollout-stop-rules.js';

/**
 * What resuming a paused rollout records: the operator's decision on what stopped it. The
 * errors seen so far are accepted, so only new ones can trip the error threshold again. The
 * current batch is approved when it has nothing left to decide — every device finished, or
 * the success threshold is reached (a pause for approval) — so it advances without soak,
 * approval or success threshold. A batch paused mid-way stays under its success threshold.
 */
export async function resumeState(
  db: Kysely<Database>,
  row: Selectable<RolloutsTable>,
): Promise<{ error_ack: string; approved_batch: number }> {
  const rows = await db
    .selectFrom('actions')
    .select(['batch', 'state', (eb) => eb.fn.countAll<number>().as('n')])
    .where('rollout_id', '=', row.id)
    .groupBy(['batch', 'state'])
    .execute();
  const batches = new Map<number, StateCounts>();
  for (const r of rows) {
    const counts = batches.get(r.batch) ?? {};
    counts[r.state as ActionState] = Number(r.n);
    batches.set(r.batch, counts);
  }

  const ack: Record<string, number> = {};
  for (const [batch, counts] of batches) ack[String(batch)] = tally(counts).errors;
  const current = tally(batches.get(row.current_batch));
  const { successThreshold } = storedSettings(row.settings);
  const decided =
    current.active === 0 || current.succeeded * 100 >= successThreshold * current.counted;
  return {
    error_ack: JSON.stringify(ack),
    approved_batch: decided ? row.current_batch : row.approved_batch,
  };
}
