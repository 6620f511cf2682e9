import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, SYSTEM_ACTOR } from '../../src/server/domain/audit-log.js';
import { DeviceService } from '../../src/server/domain/device-service.js';
import { openTestDatabase, TEST_DATABASES, type TestDatabase } from '../support/test-databases.js';

/** Device search and tag filter answer alike on both databases (docs: GET /devices). */
describe.each(TEST_DATABASES)('device search on %s', (kind) => {
  let database: TestDatabase;
  let devices: DeviceService;
  // Sorted here: the databases order text by their own collations.
  const ids = (found: { devices: { id: string }[] }) => found.devices.map((d) => d.id).sort();

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    devices = new DeviceService(database.db, new AuditLog(database.db), () => ({
      mqttUrl: 'mqtt://h',
      serverUrl: 'http://h',
      signingPublicKey: '',
    }));
    for (const [deviceId, tags] of [
      ['lab-1', ['Lab']],
      ['lab_1', ['lab_a']],
      ['LAB-2', ['lab']],
      ['field-1', ['labXa']],
    ] as const) {
      await devices.register({ deviceId, tags: [...tags] }, SYSTEM_ACTOR);
    }
  });
  afterAll(() => database?.close());

  it('finds device ids containing the text, whatever their case', async () => {
    expect(ids(await devices.list({ q: 'LAB' }))).toEqual(['LAB-2', 'lab-1', 'lab_1']);
    expect(ids(await devices.list({ q: 'lab-' }))).toEqual(['LAB-2', 'lab-1']);
  });

  it('reads % and _ in a search as themselves, not as wildcards', async () => {
    expect(ids(await devices.list({ q: 'lab_' }))).toEqual(['lab_1']);
    expect(ids(await devices.list({ q: '%' }))).toEqual([]);
  });

  it('filters by a whole tag, case and underscore included', async () => {
    expect(ids(await devices.list({ tag: 'lab' }))).toEqual(['LAB-2']);
    expect(ids(await devices.list({ tag: 'Lab' }))).toEqual(['lab-1']);
    expect(ids(await devices.list({ tag: 'lab_a' }))).toEqual(['lab_1']);
  });
});
