import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { AuditLog, SYSTEM_ACTOR } from '../domain/audit-log.js';
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
export async function bootstrapAdmin(
  db: Kysely<Database>,
  dataDir: string,
): Promise<AdminBootstrap> {
  const tokenFile = path.join(dataDir, 'admin-token');
  const existing = await db.selectFrom('accounts').select('id').limit(1).executeTakeFirst();
  if (existing) return { tokenFile, created: null };

  const password = randomBytes(12).toString('base64url');
  const passwordHash = await hashPassword(password);
  const token = await db.transaction().execute(async (trx) => {
    const account = await trx
      .insertInto('accounts')
      .values({
        username: 'admin',
        password_hash: passwordHash,
        role: 'admin',
        created_at: Date.now(),
        disabled_at: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    // No expiry: it is how the operator gets in at all. Rotation: docs/security.md.
    const made = await createApiToken(trx, {
      accountId: Number(account.id),
      name: 'first-start admin token',
      expiresAt: null,
    });
    await new AuditLog(trx).record(SYSTEM_ACTOR, 'account.create', 'account:admin', {
      role: 'admin',
      firstStart: true,
    });
    return made.token;
  });
  await writeFile(tokenFile, token + '\n', { mode: 0o600 });
  await writeFile(path.join(dataDir, 'admin-password'), password + '\n', { mode: 0o600 });
  return { tokenFile, created: { password } };
}
