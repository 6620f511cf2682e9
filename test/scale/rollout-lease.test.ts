import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommandIssuer } from '../../src/server/domain/command-issuer.js';
import type { PackageView } from '../../src/server/domain/package-service.js';
import { LEASE_MS, RolloutLease } from '../../src/server/domain/rollout-lease.js';
import { UrlKeyring } from '../../src/server/keys/url-keyring.js';
import { createLogger } from '../../src/server/log.js';
import type { MessageBus } from '../../src/server/mqtt/message-bus.js';
import { openTestDatabase, TEST_DATABASES, type TestDatabase } from '../support/test-databases.js';

const log = createLogger('silent');
const PKG = { id: 1, app: 'demo', version: '2.0.0', size: 10, sha256: 'ab'.repeat(32) };

/** One rollout lease per replica, on every database (docs/deploy.md: "Replicas"). */
describe.each(TEST_DATABASES)('rollout lease on %s', (kind) => {
  let database: TestDatabase;
  let clock: number;
  let published: { topic: string; id: string }[];
  let issuer: CommandIssuer;

  beforeEach(async () => {
    database = await openTestDatabase(kind);
    clock = 1_800_000_000_000;
    published = [];
    const bus: MessageBus = {
      publish: async (topic, payload) => void published.push({ topic, id: JSON.parse(payload).id }),
      onDeviceMessage: () => undefined,
      disconnect: () => undefined,
      close: async () => undefined,
    };
    issuer = new CommandIssuer(bus, await UrlKeyring.load(database.db), () => 'http://h', 3600);
  });
  afterEach(() => database?.close());

  const replica = (name: string) =>
    new RolloutLease(database.db, name, issuer, { get: async () => PKG as PackageView }, log, {
      nowMs: () => clock,
    });

  it('lets one replica hold a rollout until its lease expires, then another', async () => {
    const rollout = await insertRollout(database, 'running');
    const a = replica('a');
    const b = replica('b');

    expect(await a.hold(rollout)).toBe(true);
    expect(await b.hold(rollout)).toBe(false);
    clock += LEASE_MS - 1;
    expect(await a.hold(rollout)).toBe(true); // renewed: another full lease from now
    clock += LEASE_MS - 1;
    expect(await b.hold(rollout)).toBe(false);

    clock += 2; // a stopped renewing (killed): its lease runs out
    expect(await b.hold(rollout)).toBe(true);
    expect(await a.hold(rollout)).toBe(false);
    expect(a.held).toEqual([]);
  });

  it('gives exactly one of many replicas racing for a rollout the lease', async () => {
    const rollout = await insertRollout(database, 'running');
    const replicas = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6'].map(replica);
    const won = await Promise.all(replicas.map((r) => r.hold(rollout)));
    expect(won.filter(Boolean)).toHaveLength(1);
  });

  it('hands the lease over at once on a clean shutdown', async () => {
    const rollout = await insertRollout(database, 'running');
    const a = replica('a');
    const b = replica('b');
    expect(await a.hold(rollout)).toBe(true);
    await a.release();
    expect(await b.hold(rollout)).toBe(true);
  });

  it('takes no lease on a rollout that is not running', async () => {
    const rollout = await insertRollout(database, 'paused');
    expect(await replica('a').hold(rollout)).toBe(false);
  });

  it('re-sends the sent commands, with their ids, when it takes a rollout over', async () => {
    const rollout = await insertRollout(database, 'running');
    const sent = await insertAction(database, rollout, 'dev-1', 'sent', 1);
    await insertAction(database, rollout, 'dev-2', 'queued', 0);
    const started = await insertAction(database, rollout, 'dev-3', 'downloading', 1);
    const a = replica('a');
    expect(await a.hold(rollout)).toBe(true);
    published.length = 0; // what a sent before it "died"

    clock += LEASE_MS + 1;
    expect(await replica('b').hold(rollout)).toBe(true);
    expect(published).toEqual([{ topic: 'tiota/v1/d/dev-1/cmd', id: `a${sent}.1` }]);
    expect(published.some((p) => p.id === `a${started}.1`)).toBe(false);
  });
});

async function insertRollout(database: TestDatabase, status: string): Promise<number> {
  const now = Date.now();
  const row = await database.db
    .insertInto('rollouts')
    .values({
      name: 'r',
      package_id: PKG.id,
      status,
      settings: '{}',
      target: '{}',
      current_batch: 0,
      batch_count: 1,
      pause_reason: null,
      created_by: 'test',
      created_at: now,
      started_at: now,
      finished_at: null,
      updated_at: now,
      lease_owner: null,
      lease_expires_at: null,
      batch_started_at: now,
      next_step_at: now,
    } as any)
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

async function insertAction(
  database: TestDatabase,
  rolloutId: number,
  deviceId: string,
  state: string,
  attempt: number,
): Promise<number> {
  const now = Date.now();
  const device = await database.db
    .insertInto('devices')
    .values({ device_id: deviceId, secret_hash: 'x', tags: '[]', created_at: now } as any)
    .returning('id')
    .executeTakeFirstOrThrow();
  const action = await database.db
    .insertInto('actions')
    .values({
      rollout_id: rolloutId,
      device_row_id: Number(device.id),
      package_id: PKG.id,
      batch: 0,
      state,
      attempt,
      created_at: now,
      updated_at: now,
    } as any)
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(action.id);
}
