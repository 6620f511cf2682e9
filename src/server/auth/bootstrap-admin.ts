import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { createApiToken } from './api-tokens.js';
import { hashPassword } from './password-hash.js';

export interface AdminBootstrap {
  readonly tokenFile: string;
  /** Set only on the very first start, when the account and token were just made. */
  readonly created: { password: string } | null;
}

/**
 * On the first start (no accounts yet) creates the `admin` account and an admin API token,
 * written to `<dataDir>/admin-token` with mode 0600 — the only copy; the database keeps a hash.
 */
export async function bootstrapAdmin(db: Kysely<Database>, dataDir: string): Promise<AdminBootstrap> {
  const tokenFile = path.join(dataDir, 'admin-token');
  const existing = await db.selectFrom('accounts').select('id').limit(1).executeTakeFirst();
  if (existing) return { tokenFile, created: null };

  const password = randomBytes(12).toString('base64url');
  const account = await db
    .insertInto('accounts')
    .values({
      username: 'admin',
      password_hash: await hashPassword(password),
      role: 'admin',
      created_at: Date.now(),
      disabled_at: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const { token } = await createApiToken(db, Number(account.id), 'first-start admin token', null);
  await writeFile(tokenFile, token + '\n', { mode: 0o600 });
  await writeFile(path.join(dataDir, 'admin-password'), password + '\n', { mode: 0o600 });
  return { tokenFile, created: { password } };
}
