import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceActivityWriter } from '../../src/server/domain/device-activity-writer.js';
import { openTestDatabase, TEST_DATABASES, type TestDatabase } from '../support/test-databases.js';

/** Group commit of hellos and device events (issue 9): batched, yet each caller sees its write. */
describe.each(TEST_DATABASES)('device activity writer on %s', (kind) => {
  let database: TestDatabase;
  let rowIds: number[];

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    const rows = await database.db
      .insertInto('devices')
      .values(
        ['w-1', 'w-2', 'w-3'].map((id) => ({
          device_id: id,
          secret_hash: 'x',
          tags: '[]',
          profile: null,
          app_name: null,
          app_version: null,
          app_id: null,
          online: 0,
          last_seen_at: null,
          created_at: 1,
          revoked_at: null,
        })) as any,
      )
      .returning('id')
      .execute();
    rowIds = rows.map((r) => Number(r.id));
  });
  afterAll(() => database?.close());

  const event = (rowId: number, kind: string, at: number) => ({
    device_row_id: rowId,
    action_id: null,
    kind,
    detail: '{}',
    at,
  });

  it('writes concurrent hellos and events in one go, each visible when its promise resolves', async () => {
    const writer = new DeviceActivityWriter(database.db);
    const fields = { app_name: 'app', app_version: '1.0.0', app_id: 1, profile: 'tijos' };
    await Promise.all([
      writer.hello(rowIds[0], fields, event(rowIds[0], 'hello', 1000)),
      writer.hello(rowIds[1], { ...fields, app_version: '2.0.0' }, event(rowIds[1], 'hello', 1001)),
      writer.event(event(rowIds[2], 'status.downloading', 1002)),
    ]);

    const devices = await database.db
      .selectFrom('devices')
      .selectAll()
      .where('id', 'in', rowIds)
      .orderBy('id')
      .execute();
    expect(devices.map((d) => [d.app_version, d.online])).toEqual([
      ['1.0.0', 1],
      ['2.0.0', 1],
      [null, 0],
    ]);
    const events = await database.db
      .selectFrom('device_events')
      .select(['kind'])
      .orderBy('id')
      .execute();
    expect(events.map((e) => e.kind)).toEqual(['hello', 'hello', 'status.downloading']);
  });

  it('fails only the write whose row is refused, not the rest of its batch', async () => {
    const writer = new DeviceActivityWriter(database.db);
    const results = await Promise.allSettled([
      writer.event(event(rowIds[0], 'kept', 2000)),
      writer.event({ ...event(rowIds[0], 'refused', 2001), kind: null as unknown as string }), // NOT NULL
      writer.event(event(rowIds[1], 'kept', 2002)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const kept = await database.db
      .selectFrom('device_events')
      .select('kind')
      .where('kind', '=', 'kept')
      .execute();
    expect(kept).toHaveLength(2);
  });

  it('flush waits for writes asked for but not yet committed', async () => {
    const writer = new DeviceActivityWriter(database.db);
    void writer.event(event(rowIds[2], 'late', 3000));
    await writer.flush();
    const late = await database.db
      .selectFrom('device_events')
      .select('kind')
      .where('kind', '=', 'late')
      .execute();
    expect(late).toHaveLength(1);
  });

  it('records a presence change once, in order with a hello of the same batch', async () => {
    const writer = new DeviceActivityWriter(database.db);
    const fields = { app_name: 'app', app_version: '3.0.0', app_id: 1, profile: null };
    const rowId = rowIds[2];
    await Promise.all([
      writer.hello(rowId, fields, event(rowId, 'hello', 4000)),
      writer.presence(rowId, false, event(rowId, 'offline', 4001)),
      writer.presence(rowId, false, event(rowId, 'offline', 4002)), // the last will, again
    ]);
    const device = await database.db
      .selectFrom('devices')
      .selectAll()
      .where('id', '=', rowId)
      .executeTakeFirstOrThrow();
    expect([device.app_version, device.online]).toEqual(['3.0.0', 0]);
    const kinds = await database.db
      .selectFrom('device_events')
      .select('kind')
      .where('device_row_id', '=', rowId)
      .where('at', '>=', 4000)
      .orderBy('id')
      .execute();
    expect(kinds.map((k) => k.kind)).toEqual(['hello', 'offline']);
  });

  it('runs other work in the same commit, in order, and hands each caller its own result', async () => {
    const writer = new DeviceActivityWriter(database.db);
    const rowId = rowIds[0];
    const setVersion = (version: string) => (trx: typeof database.db) =>
      trx
        .updateTable('devices')
        .set({ app_version: version })
        .where('id', '=', rowId)
        .where('app_version', '!=', version)
        .executeTakeFirst()
        .then((r) => Number(r.numUpdatedRows));
    const results = await Promise.all([
      writer.inBatch(setVersion('5.0.0')),
      writer.event(event(rowId, 'between', 5000)),
      writer.inBatch(setVersion('5.0.0')), // runs after the first: nothing left to change
      writer.inBatch(async () => 'plain value'),
    ]);
    expect(results).toEqual([1, undefined, 0, 'plain value']);
    const device = await database.db
      .selectFrom('devices')
      .select('app_version')
      .where('id', '=', rowId)
      .executeTakeFirstOrThrow();
    expect(device.app_version).toBe('5.0.0');
  });

  it("writes a batch's hellos and events before the rows its work adds", async () => {
    const writer = new DeviceActivityWriter(database.db);
    const rowId = rowIds[1];
    const fields = { app_name: 'app', app_version: '7.0.0', app_id: 1, profile: null };
    await Promise.all([
      writer.hello(rowId, fields, event(rowId, 'hello', 7000)),
      writer.inBatch((trx) =>
        trx
          .insertInto('device_events')
          .values(event(rowId, 'succeeded', 7001))
          .execute(),
      ),
      writer.event(event(rowId, 'after', 7002)),
    ]);
    const kinds = await database.db
      .selectFrom('device_events')
      .select('kind')
      .where('device_row_id', '=', rowId)
      .where('at', '>=', 7000)
      .orderBy('id')
      .execute();
    expect(kinds.map((k) => k.kind)).toEqual(['hello', 'after', 'succeeded']);
  });

  it('rejects only the work that failed; its neighbours still commit', async () => {
    const writer = new DeviceActivityWriter(database.db);
    const results = await Promise.allSettled([
      writer.event(event(rowIds[1], 'beside-failure', 6000)),
      writer.inBatch(async () => {
        throw new Error('work failed');
      }),
      writer.event(event(rowIds[1], 'beside-failure', 6001)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason.message).toBe('work failed');
    const rows = await database.db
      .selectFrom('device_events')
      .select('at')
      .where('kind', '=', 'beside-failure')
      .execute();
    expect(rows).toHaveLength(2);
  });
});
