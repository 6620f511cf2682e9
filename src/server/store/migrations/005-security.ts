import type { Kysely } from 'kysely';
import { dialectOf } from '../dialect.js';

/**
 * Issue 8 (security): console sessions and narrowed tokens live beside API tokens; fleet
 * enrollment tokens let devices register themselves into a tag; the audit log gets the
 * indexes its filters use.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = dialectOf(db) === 'postgres';
  const time = postgres ? 'bigint' : 'integer';

  // 'api' (long-lived, for scripts) or 'session' (console login: short-lived, idle timeout).
  await db.schema
    .alterTable('api_tokens')
    .addColumn('kind', 'text', (c) => c.notNull().defaultTo('api'))
    .execute();
  // A token may act with less than its account's role (least privilege for scripts).
  await db.schema.alterTable('api_tokens').addColumn('role', 'text').execute();
  await db.schema.createIndex('api_tokens_account').on('api_tokens').column('account_id').execute();

  await db.schema
    .createTable('enrollment_tokens')
    .addColumn('id', postgres ? 'bigserial' : 'integer', (c) =>
      postgres ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('profile', 'text')
    .addColumn('max_uses', 'integer', (c) => c.notNull())
    .addColumn('used_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('expires_at', time, (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('revoked_at', time)
    .execute();

  await db.schema.createIndex('audit_log_actor').on('audit_log').columns(['actor', 'id']).execute();
  await db.schema
    .createIndex('audit_log_action')
    .on('audit_log')
    .columns(['action', 'id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('audit_log_action').execute();
  await db.schema.dropIndex('audit_log_actor').execute();
  await db.schema.dropTable('enrollment_tokens').execute();
  await db.schema.dropIndex('api_tokens_account').execute();
  await db.schema.alterTable('api_tokens').dropColumn('role').execute();
  await db.schema.alterTable('api_tokens').dropColumn('kind').execute();
}
