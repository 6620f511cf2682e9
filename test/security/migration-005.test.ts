import { Migrator } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationProvider } from '../../src/server/store/migrations/index.js';
import { openTestDatabase, TEST_DATABASES, type TestDatabase } from '../support/test-databases.js';

/** Migration 005 (security) rolls back and forward on every database (STYLE: migrations). */
describe.each(TEST_DATABASES)('migration 005-security on %s', (kind) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
  });
  afterAll(() => database?.close());

  const columns = async (table: string) =>
    (await database.db.introspection.getTables())
      .find((t) => t.name === table)
      ?.columns.map((c) => c.name) ?? [];

  it('adds token kinds and roles, enrollment tokens and audit indexes, and takes them away', async () => {
    expect(await columns('api_tokens')).toEqual(expect.arrayContaining(['kind', 'role']));
    expect(await columns('enrollment_tokens')).toEqual(
      expect.arrayContaining([
        'token_hash',
        'tags',
        'max_uses',
        'used_count',
        'expires_at',
        'revoked_at',
      ]),
    );

    const migrator = new Migrator({ db: database.db, provider: migrationProvider });
    const names = Object.keys(await migrationProvider.getMigrations()).sort();
    const down = await migrator.migrateTo(names[names.indexOf('005-security') - 1]);
    expect(down.error).toBeUndefined();
    expect(await columns('api_tokens')).not.toContain('kind');
    expect(await columns('enrollment_tokens')).toEqual([]);

    const up = await migrator.migrateToLatest();
    expect(up.error).toBeUndefined();
    expect(await columns('api_tokens')).toContain('kind');
  });

  it("reads tokens made before it as long-lived API tokens with the account's role", async () => {
    const account = await database.db
      .insertInto('accounts')
      .values({
        username: 'm',
        password_hash: 'x',
        role: 'viewer',
        created_at: 0,
        disabled_at: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    // The columns a pre-005 server wrote; the defaults fill in the rest.
    await database.db
      .insertInto('api_tokens')
      .columns(['account_id', 'name', 'token_hash', 'created_at'])
      .values({ account_id: account.id, name: 'old', token_hash: 'h', created_at: 0 })
      .execute();
    const row = await database.db
      .selectFrom('api_tokens')
      .select(['kind', 'role'])
      .where('token_hash', '=', 'h')
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ kind: 'api', role: null });
  });
});
