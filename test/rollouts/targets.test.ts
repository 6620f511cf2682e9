import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveTarget } from '../../src/server/domain/rollout-target.js';
import { openTestDatabase, TEST_DATABASES, type TestDatabase } from '../support/test-databases.js';

/** Targets resolve once, to devices in id order (the order batches are cut in). */
describe.each(TEST_DATABASES)('rollout targets on %s', (kind) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    const device = (id: string, app: string, version: string, tags: string[], revoked = false) => ({
      device_id: id,
      secret_hash: 'x',
      tags: JSON.stringify(tags),
      profile: 'tijos',
      app_name: app,
      app_version: version,
      app_id: 1,
      online: 1,
      last_seen_at: null,
      created_at: 1,
      revoked_at: revoked ? 1 : null,
    });
    await database.db
      .insertInto('devices')
      .values([
        device('m-3', 'meter', '1.10.0', ['north']),
        device('m-1', 'meter', '1.9.2', ['north', 'lab']),
        device('m-2', 'meter', '2.0.0', ['south']),
        device('m-4', 'meter', '1.0.0', ['north'], true),
        device('g-1', 'gateway', '1.0.0', ['lab']),
      ] as never)
      .execute();
  });
  afterAll(() => database?.close());

  const ids = async (target: object) =>
    (await resolveTarget(database.db, target)).map((d) => d.device_id);

  it('finds devices by app below a version, compared as numbers', async () => {
    expect(await ids({ app: 'meter', versionBelow: '2.0.0' })).toEqual(['m-1', 'm-3']);
    expect(await ids({ app: 'meter', versionBelow: '1.10.0' })).toEqual(['m-1']);
  });

  it('finds devices by any of their tags, leaving revoked ones out', async () => {
    expect(await ids({ tags: ['north'] })).toEqual(['m-1', 'm-3']);
    expect(await ids({ tags: ['lab', 'south'] })).toEqual(['g-1', 'm-1', 'm-2']);
  });

  it('takes explicit ids, combined with the other fields, and refuses unknown ones', async () => {
    expect(await ids({ devices: ['m-3', 'g-1', 'm-3', 'm-4'] })).toEqual(['g-1', 'm-3']);
    expect(await ids({ devices: ['m-3', 'g-1'], app: 'meter' })).toEqual(['m-3']);
    await expect(ids({ devices: ['m-1', 'nope'] })).rejects.toThrow('device nope not found');
  });
});
