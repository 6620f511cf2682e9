import { Migrator } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationProvider } from '../../src/server/store/migrations/index.js';
import { openTestDatabase, TEST_DATABASES, type TestDatabase } from '../support/test-databases.js';

/** Migration 004 (rollout plan, approvals, accepted errors) on every database. */
describe.each(TEST_DATABASES)('migration 004-rollouts on %s', (kind) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
  });
  afterAll(() => database?.close());

  const rolloutColumns = async () =>
    (await database.db.introspection.getTables())
      .find((t) => t.name === 'rollouts')!
      .columns.map((c) => c.name);

  it('gives rollouts created without the new columns their defaults', async () => {
    expect(await rolloutColumns()).toEqual(
      expect.arrayContaining(['plan', 'approved_batch', 'error_ack']),
    );
    const now = Date.now();
    const row = await database.db
      .insertInto('rollouts')
      .values({
        name: 'old',
        package_id: 1,
        status: 'running',
        settings: '{}',
        target: '{}',
        current_batch: 0,
        batch_count: 1,
        pause_reason: null,
        created_by: 't',
        created_at: now,
        started_at: now,
        finished_at: null,
        updated_at: now,
        lease_owner: null,
        lease_expires_at: null,
        batch_started_at: now,
        next_step_at: null,
        plan: null,
      })
      .returning(['approved_batch', 'error_ack'])
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ approved_batch: -1, error_ack: '{}' });
  });

  it('rolls back and forward again', async () => {
    const migrator = new Migrator({ db: database.db, provider: migrationProvider });
    const names = Object.keys(await migrationProvider.getMigrations()).sort();
    const down = await migrator.migrateTo(names[names.indexOf('004-rollouts') - 1]);
    expect(down.error).toBeUndefined();
    expect(await rolloutColumns()).not.toContain('plan');
    const up = await migrator.migrateToLatest();
    expect(up.error).toBeUndefined();
    expect(await rolloutColumns()).toContain('plan');
  });
});
