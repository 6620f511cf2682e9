import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type OpenDatabase } from '../../src/server/store/open-database.js';
import { createPgDatabase } from './test-server.js';

export type TestDatabaseKind = 'sqlite' | 'postgres';

/**
 * The databases every store and rollout suite runs over (`describe.each(TEST_DATABASES)`).
 * Both by default, as in CI; `TIOTA_TEST_DATABASES=sqlite` narrows a local run on a machine
 * without PostgreSQL. PostgreSQL is reached through TIOTA_TEST_PG (test-server.ts).
 */
export const TEST_DATABASES: readonly TestDatabaseKind[] = parseKinds(
  process.env.TIOTA_TEST_DATABASES ?? 'sqlite,postgres',
);

export interface TestDatabase extends OpenDatabase {
  /** The URL the server would be given (`sqlite:<file>` or `postgres://…`). */
  readonly url: string;
}

/**
 * A fresh, migrated database of `kind`: a SQLite file in a temporary folder, or a new
 * PostgreSQL database. `close()` destroys the connection and the database with it.
 */
export async function openTestDatabase(kind: TestDatabaseKind): Promise<TestDatabase> {
  if (kind === 'postgres') {
    const pg = await createPgDatabase();
    const opened = await openDatabase(pg.url);
    return {
      ...opened,
      url: pg.url,
      close: async () => {
        await opened.close();
        await pg.drop();
      },
    };
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tiota-db-'));
  const url = `sqlite:${path.join(dir, 'tiota.db')}`;
  const opened = await openDatabase(url);
  return {
    ...opened,
    url,
    close: async () => {
      await opened.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function parseKinds(list: string): TestDatabaseKind[] {
  const kinds = list.split(',').map((k) => k.trim());
  for (const kind of kinds) {
    if (kind !== 'sqlite' && kind !== 'postgres') {
      throw new Error(`TIOTA_TEST_DATABASES: "${kind}" is not sqlite or postgres`);
    }
  }
  return kinds as TestDatabaseKind[];
}
