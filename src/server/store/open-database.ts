import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { DialectName } from './dialect.js';
import { migrationProvider } from './migrations/index.js';
import { prepareStatementsOn, preparedStatementsWanted } from './pg-prepared-statements.js';
import type { Database } from './schema.js';
import { withStatementCache } from './sqlite-statement-cache.js';

// int8 (bigint) columns hold Unix milliseconds and sizes: well inside 2^53, so read as numbers.
pg.types.setTypeParser(20, (value) => Number(value));

export interface OpenDatabase {
  readonly db: Kysely<Database>;
  readonly dialect: DialectName;
  close(): Promise<void>;
}

/**
 * Opens the database named by `url` and brings its schema up to date.
 * `url` is `sqlite:<path>` (or a bare path) or `postgres://…` / `postgresql://…`.
 */
export async function openDatabase(url: string): Promise<OpenDatabase> {
  const dialect: DialectName = /^postgres(ql)?:\/\//.test(url) ? 'postgres' : 'sqlite';
  const db =
    dialect === 'postgres'
      ? new Kysely<Database>({ dialect: new PostgresDialect({ pool: openPgPool(url) }) })
      : new Kysely<Database>({
          dialect: new SqliteDialect({ database: withStatementCache(openSqlite(url)) }),
        });

  await migrate(db);
  return { db, dialect, close: () => db.destroy() };
}

function openPgPool(databaseUrl: string): pg.Pool {
  const { url, prepare } = preparedStatementsWanted(databaseUrl);
  const pool = new pg.Pool({ connectionString: url, max: 10, application_name: 'tiota' });
  if (prepare) prepareStatementsOn(pool);
  // An idle connection that breaks (PostgreSQL restarted or failed over) must not end the
  // process: the pool drops it, and the next query opens a new one or fails visibly.
  pool.on('error', () => undefined);
  return pool;
}

function openSqlite(url: string): SqliteDatabase.Database {
  const file = url.replace(/^sqlite:(\/\/)?/, '');
  const sqlite = new SqliteDatabase(file);
  // WAL lets readers (API) run beside the writer (reports); NORMAL sync is durable in WAL mode
  // against process crashes, which is what kill -9 tests exercise.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  return sqlite;
}

async function migrate(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    const where = failed ? ` (migration ${failed.migrationName})` : '';
    throw new Error(
      `database migration failed${where}: ${String((error as Error).message ?? error)}`,
    );
  }
}
