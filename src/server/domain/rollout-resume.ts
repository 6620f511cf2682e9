import type { Kysely, Selectable } from 'kysely';
import type { Database, RolloutsTable } from '../store/schema.js';
import { batchStateCounts } from './batch-state-counts.js';
import { storedSettings } from './rollout-settings.js';
import { tally } from './rollout-stop-rules.js';

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
  const batches = await batchStateCounts(db, Number(row.id));

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
