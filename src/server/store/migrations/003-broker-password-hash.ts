import type { Kysely } from 'kysely';

/**
 * Device secrets in the external broker's own password format, so any replica can rebuild the
 * broker's password file from the database (src/server/mqtt/mosquitto-auth-files.ts). The
 * secret itself is shown once at registration and never stored; devices registered before
 * this migration have no broker hash until they are registered again.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('devices').addColumn('broker_password_hash', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('devices').dropColumn('broker_password_hash').execute();
}
