import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestDatabase, TEST_DATABASES, type TestDatabase } from '../support/test-databases.js';
import { EngineBench } from './helpers/engine-bench.js';

/**
 * A hello puts two items into the group commit: its device row and its decision on the
 * action. When the device row cannot be written, the batch commits its items one by one and
 * the decision commits alone; what it asks for (the engine told of a finished action, a
 * command resent) must still happen. PostgreSQL refuses a NUL character in text, which makes
 * the device row fail here; the MQTT parser refuses such reports before they reach the
 * handler (device-states.test.ts), so this stands for any failure of that one write.
 */
describe.each(TEST_DATABASES.filter((k) => k === 'postgres'))(
  'a hello whose device row cannot be written on %s',
  (kind) => {
    let database: TestDatabase;
    beforeEach(async () => {
      database = await openTestDatabase(kind);
    });
    afterEach(() => database?.close());

    async function setup() {
      const bench = await EngineBench.open(database, {
        bandwidthBytesPerSecond: 1e9,
        maxDownloads: 10,
      });
      return { bench, ...(await bench.oneDeviceSent({ maxRetries: 0 })) };
    }

    const state = async (id: number) =>
      (
        await database.db
          .selectFrom('actions')
          .select('state')
          .where('id', '=', id)
          .executeTakeFirstOrThrow()
      ).state;

    it('still tells the engine about the rolled_back the hello committed', async () => {
      const { bench, reports, deviceId, rowId, actionId } = await setup();
      const [command] = bench.published;
      await reports.status(rowId, { cmd: command.id, state: 'downloading' });
      await reports.status(rowId, { cmd: command.id, state: 'downloaded' });

      let finished = 0;
      reports.onFinished = () => finished++;
      // Back on the old version; the profile string holds a NUL character.
      // The hello still fails, for its device row.
      await expect(
        reports.hello(rowId, deviceId, { app: 'demo', version: '1.0.0', profile: 'ti\u0000jos' }),
      ).rejects.toThrow();

      expect(await state(actionId)).toBe('rolled_back');
      expect(finished).toBeGreaterThan(0);
    });

    it('still resends the command the hello decided to resend', async () => {
      const { bench, reports, deviceId, rowId, actionId } = await setup();
      const before = bench.published.length;
      // The hello still fails, for its device row.
      await expect(
        reports.hello(rowId, deviceId, { app: 'demo', version: '1.0.0', profile: 'ti\u0000jos' }),
      ).rejects.toThrow();

      expect(await state(actionId)).toBe('sent');
      expect(bench.published.length).toBe(before + 1);
    });
  },
);

/**
 * The server never deletes a package while devices work on it (device-states.test.ts,
 * package-delete-race.test.ts), but its row may be removed some other way. A device's report
 * must then end its action, not fail on every hello until a deadline passes.
 */
describe.each(TEST_DATABASES)('a report whose package is gone on %s', (kind) => {
  let database: TestDatabase;
  beforeEach(async () => {
    database = await openTestDatabase(kind);
  });
  afterEach(() => database?.close());

  it('ends the action canceled with package_deleted', async () => {
    const bench = await EngineBench.open(database, {
      bandwidthBytesPerSecond: 1e9,
      maxDownloads: 10,
    });
    const { reports, deviceId, command, rowId, actionId } = await bench.oneDeviceSent();
    await reports.status(rowId, { cmd: command.id, state: 'installing' });
    bench.packages.find = async () => null;

    await reports.hello(rowId, deviceId, { app: 'demo', version: '2.0.0' });
    const after = await database.db
      .selectFrom('actions')
      .select(['state', 'error_code'])
      .where('id', '=', actionId)
      .executeTakeFirstOrThrow();
    expect(after).toEqual({ state: 'canceled', error_code: 'package_deleted' });
  });
});
