import type { Migration, MigrationProvider } from 'kysely';
import * as m001 from './001-initial.js';

/** Every migration, in order. One file each; names never change once released. */
const MIGRATIONS: Record<string, Migration> = {
  '001-initial': m001,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
