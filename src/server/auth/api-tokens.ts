import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Actor, Role } from '../domain/audit-log.js';
import type { Database } from '../store/schema.js';

/** API tokens look like `tiota_<43 base64url chars>`; only their SHA-256 is stored. */
export function newApiToken(): string {
  return `tiota_${randomBytes(32).toString('base64url')}`;
}

export function hashApiToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export const ROLES: readonly Role[] = ['admin', 'operator', 'viewer'];

/** Resolves a bearer token to the account acting; null when unknown, expired or revoked. */
export async function actorForToken(
  db: Kysely<Database>,
  token: string,
  now: number,
): Promise<(Actor & { accountId: number; tokenId: number }) | null> {
  const row = await db
    .selectFrom('api_tokens')
    .innerJoin('accounts', 'accounts.id', 'api_tokens.account_id')
    .select([
      'api_tokens.id as tokenId',
      'api_tokens.expires_at',
      'api_tokens.revoked_at',
      'accounts.id as accountId',
      'accounts.username',
      'accounts.role',
      'accounts.disabled_at',
    ])
    .where('api_tokens.token_hash', '=', hashApiToken(token))
    .executeTakeFirst();
  if (!row || row.revoked_at !== null || row.disabled_at !== null) return null;
  if (row.expires_at !== null && Number(row.expires_at) <= now) return null;
  return {
    name: row.username,
    role: row.role as Role,
    accountId: Number(row.accountId),
    tokenId: Number(row.tokenId),
  };
}

export async function createApiToken(
  db: Kysely<Database>,
  accountId: number,
  name: string,
  expiresAt: number | null,
): Promise<{ id: number; token: string }> {
  const token = newApiToken();
  const row = await db
    .insertInto('api_tokens')
    .values({
      account_id: accountId,
      name,
      token_hash: hashApiToken(token),
      created_at: Date.now(),
      expires_at: expiresAt,
      revoked_at: null,
      last_used_at: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: Number(row.id), token };
}
