import type SqliteDatabase from 'better-sqlite3';

/**
 * Kysely prepares every query anew; better-sqlite3 preparation costs about three times the
 * read itself here. This wrapper hands Kysely a cached statement for SQL text it has seen.
 * Safe because Kysely runs one query at a time on its single SQLite connection.
 */
export function withStatementCache(
  db: SqliteDatabase.Database,
  maxStatements = 256,
): SqliteDatabase.Database {
  const cache = new Map<string, SqliteDatabase.Statement>();
  const prepare = (sql: string): SqliteDatabase.Statement => {
    let statement = cache.get(sql);
    if (statement) {
      // Re-insert: Map order is the eviction order (least recently used first).
      cache.delete(sql);
    } else {
      statement = db.prepare(sql);
      if (cache.size >= maxStatements) cache.delete(cache.keys().next().value!);
    }
    cache.set(sql, statement);
    return statement;
  };
  return new Proxy(db, {
    get(target, property) {
      if (property === 'prepare') return prepare;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
