import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type OpenDatabase } from '../../src/server/store/open-database.js';
import type { Database } from '../../src/server/store/schema.js';
import { TEST_DATABASES } from '../support/test-databases.js';
import { createPgDatabase } from '../support/test-server.js';

/** The statements PostgreSQL holds prepared for the connection this runs on. */
async function preparedOnThisConnection(db: Kysely<Database>): Promise<string[]> {
  const { rows } = await sql<{
    statement: string;
  }>`select statement from pg_prepared_statements where not from_sql`.execute(db);
  return rows.map((r) => r.statement);
}

const LOOKUP = 'select "id", "device_id" from "devices" where "device_id" = $1';

describe.runIf(TEST_DATABASES.includes('postgres'))('prepared statements on PostgreSQL', () => {
  let pg: { url: string; drop(): Promise<void> };
  let prepared: OpenDatabase;
  let unprepared: OpenDatabase;

  beforeAll(async () => {
    pg = await createPgDatabase();
    prepared = await openDatabase(pg.url);
    unprepared = await openDatabase(`${pg.url}${pg.url.includes('?') ? '&' : '?'}prepare=off`);
    await prepared.db
      .insertInto('devices')
      .values({ device_id: 'dev-1', secret_hash: 'x', created_at: 1 })
      .execute();
  });
  afterAll(async () => {
    await prepared?.close();
    await unprepared?.close();
    await pg?.drop();
  });

  const lookUp = (db: Kysely<Database>, id: string) =>
    db.selectFrom('devices').select(['id', 'device_id']).where('device_id', '=', id).execute();

  it('prepares a repeated statement once per connection and reuses it', async () => {
    await prepared.db.connection().execute(async (conn) => {
      expect(await lookUp(conn, 'dev-1')).toHaveLength(1);
      expect(await lookUp(conn, 'nobody')).toHaveLength(0); // same statement, other value
      const statements = await preparedOnThisConnection(conn);
      expect(statements.filter((s) => s === LOOKUP)).toHaveLength(1);
    });
  });

  it('prepares nothing with ?prepare=off in the database URL', async () => {
    await unprepared.db.connection().execute(async (conn) => {
      await lookUp(conn, 'dev-1');
      expect(await preparedOnThisConnection(conn)).toEqual([]);
    });
  });

  it('runs a prepared statement again after its table changed under it (another replica migrated)', async () => {
    await prepared.db.connection().execute(async (conn) => {
      const before = await conn.selectFrom('devices').selectAll().execute();
      expect(before[0]).not.toHaveProperty('nickname');

      await sql`alter table devices add column nickname text default 'n'`.execute(unprepared.db);
      const after = await conn.selectFrom('devices').selectAll().execute();
      expect(after[0]).toHaveProperty('nickname', 'n');
    });
  });
});
