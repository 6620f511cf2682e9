/**
 * Puts a fleet straight into the database before the server starts. Registering 10,000 or
 * 100,000 devices through the API is not what these benchmarks measure, and would take
 * minutes; the rows are the ones registration writes (one shared secret: the server hashes
 * and checks it per connection all the same).
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { openDatabase } from '../../src/server/store/open-database.js';

export const BENCH_SECRET = 'bench-device-secret-0123456789ab';
export const BENCH_TAG = 'bench';

export function deviceIds(count: number, prefix = 'dev'): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(6, '0')}`);
}

export async function seedDevices(
  databaseUrl: string,
  ids: readonly string[],
  running: { app: string; version: string },
): Promise<void> {
  const { db, close } = await openDatabase(databaseUrl);
  const hash = createHash('sha256').update(BENCH_SECRET).digest('hex');
  const now = Date.now();
  try {
    await db.transaction().execute(async (trx) => {
      for (let i = 0; i < ids.length; i += 1000) {
        await trx
          .insertInto('devices')
          .values(
            ids.slice(i, i + 1000).map((id) => ({
              device_id: id,
              secret_hash: hash,
              tags: JSON.stringify([BENCH_TAG]),
              profile: 'tijos',
              app_name: running.app,
              app_version: running.version,
              app_id: 1,
              online: 0,
              last_seen_at: null,
              created_at: now,
              revoked_at: null,
            })) as any,
          )
          .execute();
      }
    });
  } finally {
    await close();
  }
}

/** A fresh PostgreSQL database for one run (trust auth on 127.0.0.1, as the tests use). */
export async function createPgDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = process.env.TIOTA_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `tiota_bench_${process.pid}_${Date.now().toString(36)}`;
  const run = async (sql: string) => {
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await run(`create database ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => run(`drop database if exists ${name} with (force)`) };
}
