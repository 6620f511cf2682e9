import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Role } from '../domain/audit-log.js';
import type { Database } from '../store/schema.js';
import { lowerRole } from './roles.js';

/**
 * Bearer tokens of both kinds. Stored values never change meaning:
 * - `api`: made by `POST /api/v1/tokens` (or the first start) for scripts and the CLI; lives
 *   until its expiry or revocation.
 * - `session`: made by `POST /api/v1/login` for the console; short-lived and ends after an
 *   idle spell or `POST /api/v1/logout`.
 */
export type TokenKind = 'api' | 'session';

/** A console session lasts at most this long, milliseconds (8 hours: one working day). */
export const SESSION_TTL_MS = 8 * 3600_000;
/** A console session unused for this long ends, milliseconds (30 minutes). */
export const SESSION_IDLE_MS = 30 * 60_000;
/** `last_used_at` is written at most this often per token, so reads stay reads. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** Tokens look like `tiota_<43 base64url chars>` (256 random bits); only a SHA-256 is kept. */
export function newApiToken(): string {
  return `tiota_${randomBytes(32).toString('base64url')}`;
}

/**
 * A fast hash suffices: the token is 256 random bits, so there is nothing to guess, and the
 * lookup runs on every request.
 */
export function hashApiToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Who a valid bearer token speaks for. */
export interface TokenHolder {
  readonly name: string;
  /** The account's role, lowered to the token's own when it has one. */
  readonly role: Role;
  readonly accountId: number;
  readonly tokenId: number;
  readonly tokenKind: TokenKind;
  readonly expiresAt: number | null;
}

/** Resolves a bearer token; null when unknown, expired, idle too long, revoked or disabled. */
export async function actorForToken(
  db: Kysely<Database>,
  token: string,
  now: number,
): Promise<TokenHolder | null> {
  // Nothing that is not shaped like a token reaches the database.
  if (token.length > 128) return null;
  const row = await db
    .selectFrom('api_tokens')
    .innerJoin('accounts', 'accounts.id', 'api_tokens.account_id')
    .select([
      'api_tokens.id as tokenId',
      'api_tokens.kind',
      'api_tokens.role as tokenRole',
      'api_tokens.expires_at',
      'api_tokens.revoked_at',
      'api_tokens.last_used_at',
      'accounts.id as accountId',
      'accounts.username',
      'accounts.role',
      'accounts.disabled_at',
    ])
    .where('api_tokens.token_hash', '=', hashApiToken(token))
    .executeTakeFirst();
  if (!row || row.revoked_at !== null || row.disabled_at !== null) return null;
  const expiresAt = row.expires_at === null ? null : Number(row.expires_at);
  if (expiresAt !== null && expiresAt <= now) return null;

  const kind: TokenKind = row.kind === 'session' ? 'session' : 'api';
  const lastUsed = row.last_used_at === null ? null : Number(row.last_used_at);
  if (kind === 'session' && lastUsed !== null && now - lastUsed > SESSION_IDLE_MS) return null;
  if (lastUsed === null || now - lastUsed >= LAST_USED_RESOLUTION_MS) {
    await db
      .updateTable('api_tokens')
      .set({ last_used_at: now })
      .where('id', '=', row.tokenId)
      .execute();
  }
  const accountRole = row.role as Role;
  return {
    name: row.username,
    role: row.tokenRole ? lowerRole(accountRole, row.tokenRole as Role) : accountRole,
    accountId: Number(row.accountId),
    tokenId: Number(row.tokenId),
    tokenKind: kind,
    expiresAt,
  };
}

export interface NewToken {
  readonly accountId: number;
  readonly name: string;
  readonly kind?: TokenKind;
  /** Unix milliseconds; null never expires. */
  readonly expiresAt: number | null;
  /** Limit the token below its account's role. */
  readonly role?: Role | null;
}

/** Stores a new token's hash and returns the token itself: the only time anyone sees it. */
export async function createApiToken(
  db: Kysely<Database>,
  spec: NewToken,
): Promise<{ id: number; token: string }> {
  const token = newApiToken();
  const now = Date.now();
  const row = await db
    .insertInto('api_tokens')
    .values({
      account_id: spec.accountId,
      name: spec.name,
      token_hash: hashApiToken(token),
      created_at: now,
      expires_at: spec.expiresAt,
      revoked_at: null,
      // A session counts as used when it starts, so its idle clock runs from login.
      last_used_at: spec.kind === 'session' ? now : null,
      kind: spec.kind ?? 'api',
      role: spec.role ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: Number(row.id), token };
}
