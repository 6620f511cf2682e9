import type { CreateTableBuilder, Kysely } from 'kysely';
import { sql } from 'kysely';
import { dialectOf } from '../dialect.js';

/** The first schema: packages, devices, rollouts and their per-device actions, history. */
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = dialectOf(db) === 'postgres';
  // Times are Unix milliseconds: bigint in PostgreSQL, integer (64-bit) in SQLite.
  const time = postgres ? 'bigint' : 'integer';
  const table = (name: string): CreateTableBuilder<string, 'id'> =>
    db.schema
      .createTable(name)
      .addColumn('id', postgres ? 'bigserial' : 'integer', (c) =>
        postgres ? c.primaryKey() : c.primaryKey().autoIncrement(),
      );

  await table('packages')
    .addColumn('app_name', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('size', time, (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('tapk_name', 'text')
    .addColumn('tapk_description', 'text')
    .addColumn('tapk_build_time', time)
    .addColumn('tapk_crc', 'integer')
    .addColumn('signature', 'text', (c) => c.notNull())
    .addColumn('signing_key_id', 'text', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addUniqueConstraint('packages_app_version', ['app_name', 'version'])
    .execute();

  await table('devices')
    .addColumn('device_id', 'text', (c) => c.notNull().unique())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('profile', 'text')
    .addColumn('app_name', 'text')
    .addColumn('app_version', 'text')
    .addColumn('app_id', 'integer')
    .addColumn('online', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_seen_at', time)
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('revoked_at', time)
    .execute();

  await table('rollouts')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('package_id', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('current_batch', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('batch_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('pause_reason', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('started_at', time)
    .addColumn('finished_at', time)
    .addColumn('updated_at', time, (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_expires_at', time)
    .addColumn('batch_started_at', time)
    .addColumn('next_step_at', time)
    .execute();
  await db.schema.createIndex('rollouts_status').on('rollouts').column('status').execute();

  await table('actions')
    .addColumn('rollout_id', 'integer', (c) => c.notNull())
    .addColumn('device_row_id', 'integer', (c) => c.notNull())
    .addColumn('package_id', 'integer', (c) => c.notNull())
    .addColumn('batch', 'integer', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('from_version', 'text')
    .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('command_id', 'text')
    .addColumn('bytes_served', time, (c) => c.notNull().defaultTo(0))
    .addColumn('error_code', 'text')
    .addColumn('error_detail', 'text')
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('updated_at', time, (c) => c.notNull())
    .addColumn('sent_at', time)
    .addColumn('deadline_at', time)
    .addColumn('retry_at', time)
    .addColumn('finished_at', time)
    .execute();
  await db.schema
    .createIndex('actions_rollout_batch')
    .on('actions')
    .columns(['rollout_id', 'batch', 'state'])
    .execute();
  await db.schema
    .createIndex('actions_device_state')
    .on('actions')
    .columns(['device_row_id', 'state'])
    .execute();
  await db.schema.createIndex('actions_deadline').on('actions').column('deadline_at').execute();

  await table('device_events')
    .addColumn('device_row_id', 'integer', (c) => c.notNull())
    .addColumn('action_id', 'integer')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('detail', 'text', (c) => c.notNull())
    .addColumn('at', time, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('device_events_device')
    .on('device_events')
    .columns(['device_row_id', 'id'])
    .execute();

  await table('audit_log')
    .addColumn('at', time, (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('detail', 'text', (c) => c.notNull())
    .addColumn('ip', 'text')
    .execute();

  await table('accounts')
    .addColumn('username', 'text', (c) => c.notNull().unique())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('disabled_at', time)
    .execute();

  await table('api_tokens')
    .addColumn('account_id', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('expires_at', time)
    .addColumn('revoked_at', time)
    .addColumn('last_used_at', time)
    .execute();

  await table('signing_keys')
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('public_key', 'text')
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('retired_at', time)
    .addUniqueConstraint('signing_keys_purpose_key', ['purpose', 'key_id'])
    .execute();

  // The audit log is append-only: PostgreSQL enforces it for every role but the owner's
  // TRUNCATE; SQLite through triggers.
  if (postgres) {
    await sql`create function audit_log_append_only() returns trigger language plpgsql as $$
      begin raise exception 'audit_log is append-only'; end $$`.execute(db);
    await sql`create trigger audit_log_no_change before update or delete on audit_log
      for each row execute function audit_log_append_only()`.execute(db);
  } else {
    await sql`create trigger audit_log_no_update before update on audit_log
      begin select raise(abort, 'audit_log is append-only'); end`.execute(db);
    await sql`create trigger audit_log_no_delete before delete on audit_log
      begin select raise(abort, 'audit_log is append-only'); end`.execute(db);
  }
}

export async function down(): Promise<void> {
  throw new Error('the initial schema cannot be rolled back');
}
