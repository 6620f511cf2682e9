import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';

export interface ActionEvent {
  readonly deviceRowId: number;
  readonly actionId: number;
  readonly kind: string;
  readonly detail: Record<string, unknown>;
}

/** Rows per insert: well under SQLite's and PostgreSQL's limits on bound parameters. */
const CHUNK = 2000;

/**
 * Appends many device history events in a few statements: the engine records one per action
 * it sends or times out, and a batch of 10,000 must not become 10,000 inserts.
 */
export async function recordActionEvents(
  db: Kysely<Database>,
  events: readonly ActionEvent[],
  at: number,
): Promise<void> {
  for (let i = 0; i < events.length; i += CHUNK) {
    await db
      .insertInto('device_events')
      .values(
        events.slice(i, i + CHUNK).map((e) => ({
          device_row_id: e.deviceRowId,
          action_id: e.actionId,
          kind: e.kind,
          detail: JSON.stringify(e.detail),
          at,
        })),
      )
      .execute();
  }
}
