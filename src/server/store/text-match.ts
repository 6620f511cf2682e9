import { sql, type Expression, type Kysely, type SqlBool } from 'kysely';
import { dialectOf } from './dialect.js';

/**
 * Text search that answers the same on SQLite and PostgreSQL. Their LIKE differs (SQLite
 * ignores ASCII case, PostgreSQL does not), and both read `%` and `_` in the searched-for text
 * as wildcards: a search for `lab_1` would also find `lab-1`.
 */

/** `column` contains `text`, ignoring case; every character of `text` stands for itself. */
export function containsIgnoringCase(column: string, text: string): Expression<SqlBool> {
  const pattern = `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return sql<SqlBool>`lower(${sql.ref(column)}) like ${pattern} escape '\\'`;
}

/** `column` contains `text` exactly as written, case included. */
export function containsExactly(
  db: Kysely<any>,
  column: string,
  text: string,
): Expression<SqlBool> {
  return dialectOf(db) === 'postgres'
    ? sql<SqlBool>`strpos(${sql.ref(column)}, ${text}) > 0`
    : sql<SqlBool>`instr(${sql.ref(column)}, ${text}) > 0`;
}
