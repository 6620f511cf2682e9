import { createHash } from 'node:crypto';
import type pg from 'pg';

/**
 * Distinct statements one connection keeps prepared. Tiota's statements are a few dozen
 * shapes; the cap only bounds texts that vary in length (an `in (…)` list, a multi-row
 * insert), which are not worth a prepared statement each.
 */
const MAX_PREPARED_PER_CONNECTION = 200;
/** Statements with more parameters than this are sent unprepared (bulk inserts, long lists). */
const MAX_PARAMETERS = 32;

/** PostgreSQL's "cached plan must not change result type": a table changed under a statement. */
const FEATURE_NOT_SUPPORTED = '0A000';

/**
 * Makes every client of `pool` send the statements it runs often as named prepared statements:
 * PostgreSQL parses and plans each once per connection instead of on every execution. Device
 * traffic is a handful of short statements repeated per device; on this project's benchmark
 * machine PostgreSQL spent 135 µs of CPU on an unnamed primary-key lookup and 69 µs on the
 * same lookup prepared (docs/benchmarks.md).
 *
 * Names come from a hash of the text, so the same text is the same statement on every
 * connection. Kysely sends `client.query(text, values)`; that call is turned into the named
 * form here, and everything else passes through untouched.
 *
 * A statement prepared before a migration changed its table fails once with "cached plan must
 * not change result type" (another replica migrated the database); it is then prepared again
 * under a new name and run once more.
 *
 * Connection poolers in transaction mode must support prepared statements (PgBouncer 1.21 and
 * later with `max_prepared_statements`); otherwise turn this off with `?prepare=off` in the URL.
 */
export function prepareStatementsOn(pool: pg.Pool): void {
  pool.on('connect', (client) => {
    const names = new Map<string, string>();
    const plain = client.query.bind(client) as (...args: unknown[]) => unknown;

    const nameFor = (text: string, parameters: number): string | undefined => {
      const known = names.get(text);
      if (known !== undefined) return known;
      if (parameters > MAX_PARAMETERS || names.size >= MAX_PREPARED_PER_CONNECTION) return;
      if (!/^\s*(select|insert|update|delete|with)\b/i.test(text)) return;
      const name = `t${createHash('sha1').update(text).digest('base64url').slice(0, 20)}`;
      names.set(text, name);
      return name;
    };

    (client as { query: unknown }).query = (...args: unknown[]) => {
      const [text, values] = args;
      if (typeof text !== 'string' || !Array.isArray(values) || args.length !== 2) {
        return plain(...args);
      }
      const name = nameFor(text, values.length);
      if (name === undefined) return plain(text, values);

      const run = (n: string) => plain({ name: n, text, values }) as Promise<pg.QueryResult>;
      return run(name).catch((error: { code?: string; message?: string }) => {
        if (error?.code !== FEATURE_NOT_SUPPORTED || !/cached plan/.test(error.message ?? '')) {
          throw error;
        }
        const renamed = `${name}_${Date.now().toString(36)}`;
        names.set(text, renamed);
        return run(renamed);
      });
    };
  });
}

/** Whether `url` asks for no prepared statements (`?prepare=off`), and the URL without it. */
export function preparedStatementsWanted(url: string): { url: string; prepare: boolean } {
  const parsed = new URL(url);
  const value = parsed.searchParams.get('prepare');
  if (value === null) return { url, prepare: true };
  parsed.searchParams.delete('prepare');
  return { url: parsed.toString(), prepare: !/^(off|false|0|no)$/i.test(value) };
}
