import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationProvider } from '../../src/server/store/migrations/index.js';
import { openDatabase } from '../../src/server/store/open-database.js';
import { openTestDatabase, TEST_DATABASES, type TestDatabase } from '../support/test-databases.js';

/** Every migration, one at a time, on every database the server supports (STYLE: migrations). */
describe.each(TEST_DATABASES)('migrations on %s', (kind) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
  });
  afterAll(() => database?.close());

  it('brings a new database to the latest schema, every table and column present', async () => {
    const tables = await database.db.introspection.getTables();
    const columns = (name: string) =>
      tables.find((t) => t.name === name)?.columns.map((c) => c.name) ?? [];
    for (const table of [
      'packages',
      'devices',
      'rollouts',
      'actions',
      'device_events',
      'audit_log',
    ]) {
      expect(columns(table), table).toContain('id');
    }
    expect(columns('rollouts')).toEqual(
      expect.arrayContaining(['lease_owner', 'lease_expires_at']),
    );
    expect(columns('devices')).toContain('broker_password_hash');
  });

  it('is a no-op when run again (every replica migrates at start)', async () => {
    const again = await openDatabase(database.url);
    const migrations = await new Migrator({
      db: again.db,
      provider: migrationProvider,
    }).getMigrations();
    await again.close();
    expect(migrations.every((m) => m.executedAt !== undefined)).toBe(true);
  });

  it('lets two replicas start on one fresh database at once', async () => {
    // The migrator takes a lock (an advisory lock on PostgreSQL): the loser waits, then no-ops.
    const fresh = await openTestDatabase(kind);
    const both = await Promise.all([openDatabase(fresh.url), openDatabase(fresh.url)]);
    await Promise.all(both.map((d) => d.close()));
    await fresh.close();
  });

  it('reads times past 2^31 ms back as numbers, exactly', async () => {
    const at = 4_102_444_800_123; // 2100-01-01, in Unix milliseconds
    const row = await database.db
      .insertInto('device_events')
      .values({ device_row_id: 1, action_id: null, kind: 'probe', detail: '{}', at })
      .returning(['id', 'at'])
      .executeTakeFirstOrThrow();
    expect(row.at).toBe(at);
    const read = await database.db
      .selectFrom('device_events')
      .select((eb) => ['at', eb.fn.countAll<number>().over().as('n')])
      .where('id', '=', row.id)
      .executeTakeFirstOrThrow();
    expect(read.at).toBe(at);
    expect(Number(read.n)).toBe(1);
  });

  it('rolls 003 back and forward again', async () => {
    const migrator = new Migrator({ db: database.db, provider: migrationProvider });
    const names = Object.keys(await migrationProvider.getMigrations()).sort();
    const down = await migrator.migrateTo(names[names.indexOf('003-broker-password-hash') - 1]);
    expect(down.error).toBeUndefined();
    const columns = async () =>
      (await database.db.introspection.getTables())
        .find((t) => t.name === 'devices')!
        .columns.map((c) => c.name);
    expect(await columns()).not.toContain('broker_password_hash');

    const up = await migrator.migrateToLatest();
    expect(up.error).toBeUndefined();
    expect(await columns()).toContain('broker_password_hash');
  });

  it('keeps the audit log append-only', async () => {
    await database.db
      .insertInto('audit_log')
      .values({ at: 1, actor: 'test', action: 'probe', target: 't', detail: '{}', ip: null })
      .execute();
    await expect(sql`update audit_log set actor = 'x'`.execute(database.db)).rejects.toThrow(
      /append-only/,
    );
    await expect(sql`delete from audit_log`.execute(database.db)).rejects.toThrow(/append-only/);
  });
});
