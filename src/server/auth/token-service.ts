import type { Kysely, Selectable } from 'kysely';
import type { Actor, AuditLog, Role } from '../domain/audit-log.js';
import { TiotaError } from '../errors.js';
import type { ApiTokensTable, Database } from '../store/schema.js';
import { createApiToken, type TokenHolder, type TokenKind } from './api-tokens.js';
import { roleAtLeast } from './roles.js';

export interface TokenView {
  readonly id: number;
  readonly name: string;
  readonly account: string;
  readonly kind: TokenKind;
  /** The role the token is limited to; null acts with its account's role. */
  readonly role: Role | null;
  readonly createdAt: number;
  readonly expiresAt: number | null;
  readonly lastUsedAt: number | null;
  readonly revokedAt: number | null;
  /** Neither revoked nor expired (a session may still have ended by idling). */
  readonly active: boolean;
}

export interface TokenRequest {
  readonly name: string;
  /** Another account's username (admins only); default the caller's own account. */
  readonly account?: string;
  /** Unix milliseconds, in the future; null never expires. Default 90 days from now. */
  readonly expiresAt?: number | null;
  readonly role?: Role;
}

/** Lifetime of a token made without an explicit expiry: 90 days. */
export const DEFAULT_TOKEN_TTL_MS = 90 * 24 * 3600_000;

/**
 * API tokens for scripts and the CLI: shown once at creation, listed without their secret,
 * revoked at will. Everyone manages their own; admins manage everyone's.
 */
export class TokenService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly audit: AuditLog,
  ) {}

  async list(caller: TokenHolder, options: { all?: boolean } = {}): Promise<TokenView[]> {
    if (options.all && caller.role !== 'admin') throw new TiotaError('forbidden', caller.role);
    let query = this.#select();
    if (!options.all) query = query.where('api_tokens.account_id', '=', caller.accountId);
    const now = Date.now();
    const rows = await query.orderBy('api_tokens.id', 'desc').limit(1000).execute();
    return rows.map((row) => toTokenView(row, now));
  }

  async create(
    request: TokenRequest,
    caller: TokenHolder,
    actor: Actor,
  ): Promise<{ token: string; view: TokenView }> {
    const username = request.account ?? caller.name;
    if (username !== caller.name && caller.role !== 'admin') {
      throw new TiotaError('forbidden', caller.role);
    }
    const account = await this.db
      .selectFrom('accounts')
      .select(['id', 'role', 'disabled_at'])
      .where('username', '=', username)
      .executeTakeFirst();
    if (!account) throw new TiotaError('not_found', `account ${username}`);
    if (account.disabled_at !== null)
      throw new TiotaError('invalid_state', `account ${username} is disabled`);
    // A token never acts above the one who makes it, nor above its account.
    const ceiling = username === caller.name ? caller.role : (account.role as Role);
    if (request.role && !roleAtLeast(ceiling, request.role)) {
      throw new TiotaError('validation_failed', `role ${request.role} is above ${ceiling}`);
    }
    const now = Date.now();
    const expiresAt =
      request.expiresAt === undefined ? now + DEFAULT_TOKEN_TTL_MS : request.expiresAt;
    if (expiresAt !== null && expiresAt <= now) {
      throw new TiotaError('validation_failed', 'expiresAt must be in the future');
    }
    const role = request.role ?? (ceiling !== account.role ? ceiling : null);

    const made = await this.db.transaction().execute(async (trx) => {
      const token = await createApiToken(trx, {
        accountId: Number(account.id),
        name: request.name,
        expiresAt,
        role,
      });
      const detail = { name: request.name, account: username, expiresAt, role };
      await this.audit.record(actor, 'token.create', `token:${token.id}`, detail, trx);
      return token;
    });
    const row = await this.#select().where('api_tokens.id', '=', made.id).executeTakeFirstOrThrow();
    return { token: made.token, view: toTokenView(row, Date.now()) };
  }

  /** Revokes a token (own, or anyone's for an admin). Revoking twice is not an error. */
  async revoke(id: number, caller: TokenHolder, actor: Actor): Promise<void> {
    const row = await this.db
      .selectFrom('api_tokens')
      .select(['id', 'account_id', 'revoked_at', 'kind'])
      .where('id', '=', id)
      .executeTakeFirst();
    // Someone else's token is "not found" to a non-admin: ids of others' tokens stay private.
    if (!row || (Number(row.account_id) !== caller.accountId && caller.role !== 'admin')) {
      throw new TiotaError('not_found', `token ${id}`);
    }
    if (row.revoked_at !== null) return;
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('api_tokens')
        .set({ revoked_at: Date.now() })
        .where('id', '=', row.id)
        .execute();
      await this.audit.record(actor, 'token.revoke', `token:${id}`, { kind: row.kind }, trx);
    });
  }

  #select() {
    return this.db
      .selectFrom('api_tokens')
      .innerJoin('accounts', 'accounts.id', 'api_tokens.account_id')
      .selectAll('api_tokens')
      .select('accounts.username');
  }
}

function toTokenView(
  row: Selectable<ApiTokensTable> & { username: string },
  now: number,
): TokenView {
  const expiresAt = row.expires_at === null ? null : Number(row.expires_at);
  const revokedAt = row.revoked_at === null ? null : Number(row.revoked_at);
  return {
    id: Number(row.id),
    name: row.name,
    account: row.username,
    kind: row.kind === 'session' ? 'session' : 'api',
    role: (row.role as Role | null) ?? null,
    createdAt: Number(row.created_at),
    expiresAt,
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
    revokedAt,
    active: revokedAt === null && (expiresAt === null || expiresAt > now),
  };
}
