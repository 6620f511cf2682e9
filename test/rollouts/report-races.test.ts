import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestDatabase, TEST_DATABASES, type TestDatabase } from '../support/test-databases.js';
import { EngineBench, PACKAGE_SIZE } from './helpers/engine-bench.js';

/**
 * Reports and the download server's accounting move the same action, each from the row it
 * read; their moves are committed together later (group commit). A move refused because the
 * row changed meanwhile is decided again on the row as it is, never dropped.
 */
describe.each(TEST_DATABASES)('reports racing the download accounting on %s', (kind) => {
  let database: TestDatabase;

  beforeEach(async () => {
    database = await openTestDatabase(kind);
  });
  afterEach(() => database?.close());

  it('keeps a device\'s "failed" that arrives while its completed download is being counted', async () => {
    const bench = await EngineBench.open(database, {
      bandwidthBytesPerSecond: 1e9,
      maxDownloads: 10,
    });
    const { reports, command, rowId, actionId } = await bench.oneDeviceSent({ maxRetries: 0 });
    await reports.status(rowId, { cmd: command.id, state: 'downloading' });

    // Both read the action in `downloading`; the download's move to `downloaded` commits first.
    await Promise.all([
      reports.downloadProgress(actionId, PACKAGE_SIZE, true),
      reports.status(rowId, { cmd: command.id, state: 'failed', code: -4 }),
    ]);

    const after = await database.db
      .selectFrom('actions')
      .select(['state', 'error_code', 'bytes_served'])
      .where('id', '=', actionId)
      .executeTakeFirstOrThrow();
    expect(after).toMatchObject({ state: 'failed', error_code: 'ota_-4' });
    expect(Number(after.bytes_served)).toBe(PACKAGE_SIZE);
    const kinds = await database.db
      .selectFrom('device_events')
      .select('kind')
      .where('action_id', '=', actionId)
      .orderBy('id')
      .execute();
    expect(kinds.map((k) => k.kind)).toEqual(
      expect.arrayContaining(['download.complete', 'status.failed', 'failed']),
    );
  });
});
