import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestDatabase, TEST_DATABASES, type TestDatabase } from '../support/test-databases.js';
import { EngineBench } from './helpers/engine-bench.js';

/**
 * Admission marks commands sent 500 at a time and publishes each chunk before marking the
 * next. When marking a later chunk fails, the commands already published must still have
 * their history rows: the device timeline shows what went out.
 */
describe.each(TEST_DATABASES)('a send that fails part way on %s', (kind) => {
  let database: TestDatabase;
  beforeEach(async () => {
    database = await openTestDatabase(kind);
  });
  afterEach(() => database?.close());

  it('records the commands of the chunks that went out', async () => {
    const bench = await EngineBench.open(database, {
      bandwidthBytesPerSecond: 1e12,
      maxDownloads: 10_000,
    });
    const devices = await bench.devices('chunk', 501);
    await bench.rollout(devices, { canary: 0, batchSize: 0 });
    const last = await database.db
      .selectFrom('actions')
      .select((eb) => eb.fn.max('id').as('id'))
      .executeTakeFirstOrThrow();
    await refuseSending(database, Number(last.id));

    await expect(bench.engine().tick()).rejects.toThrow(/refused by the test/);

    expect(bench.published).toHaveLength(500);
    const commands = await database.db
      .selectFrom('device_events')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('kind', '=', 'command')
      .executeTakeFirstOrThrow();
    expect(Number(commands.n)).toBe(500);
  });
});

/** Makes marking one action sent fail in the database, as a lost connection would. */
async function refuseSending(database: TestDatabase, actionId: number): Promise<void> {
  if (database.dialect === 'postgres') {
    await sql
      .raw(
        `create function refuse_send() returns trigger language plpgsql as $$
         begin raise exception 'refused by the test'; end $$`,
      )
      .execute(database.db);
    await sql
      .raw(
        `create trigger refuse_send before update on actions for each row
         when (new.id = ${actionId} and new.state = 'sent') execute function refuse_send()`,
      )
      .execute(database.db);
  } else {
    await sql
      .raw(
        `create trigger refuse_send before update on actions
         when new.id = ${actionId} and new.state = 'sent'
         begin select raise(abort, 'refused by the test'); end`,
      )
      .execute(database.db);
  }
}
