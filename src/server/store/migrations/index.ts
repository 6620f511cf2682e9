import type { Migration, MigrationProvider } from 'kysely';
import * as m001 from './001-initial.js';
import * as m003 from './003-broker-password-hash.js';
import * as m004 from './004-rollouts.js';
import * as m005 from './005-security.js';
import * as m006 from './006-admission-index.js';

/** Every migration, in order. One file each; names never change once released. */
const MIGRATIONS: Record<string, Migration> = {
  '001-initial': m001,
  '003-broker-password-hash': m003,
  '004-rollouts': m004,
  '005-security': m005,
  '006-admission-index': m006,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
