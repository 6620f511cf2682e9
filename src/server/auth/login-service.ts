import type { Kysely } from 'kysely';
import type { Actor, AuditLog, Role } from '../domain/audit-log.js';
import { TiotaError } from '../errors.js';
import type { Database } from '../store/schema.js';
import type { AccountService } from './account-service.js';
import { createApiToken, SESSION_TTL_MS, type TokenHolder } from './api-tokens.js';
import { AttemptLimiter } from './attempt-limiter.js';

export interface Session {
  /** The bearer token for the console: kept in memory or sessionStorage, never a cookie. */
  readonly token: string;
  readonly expiresAt: number;
  readonly idleTimeoutMs: number;
  readonly username: string;
  readonly role: Role;
}

/** Failures allowed per username and client before a 429: 5 in 15 minutes. */
export const LOGIN_FAILURES_PER_USER = { maxFailures: 5, windowMs: 15 * 60_000 };
/** Failures allowed per client across usernames (password spraying): 30 in 15 minutes. */
export const LOGIN_FAILURES_PER_CLIENT = { maxFailures: 30, windowMs: 15 * 60_000 };

/**
 * Console login and logout. A login costs one scrypt check; failures are rate limited per
 * username + IP and per IP, and a refused attempt never reaches scrypt (which also keeps the
 * CPU out of an attacker's hands). Every failure is audited; a block is audited once.
 */
export class LoginService {
  readonly #perUser = new AttemptLimiter(LOGIN_FAILURES_PER_USER);
  readonly #perClient = new AttemptLimiter(LOGIN_FAILURES_PER_CLIENT);

  constructor(
    private readonly db: Kysely<Database>,
    private readonly audit: AuditLog,
    private readonly accounts: AccountService,
    private readonly idleTimeoutMs: number,
  ) {}

  async login(username: string, password: string, ip: string): Promise<Session> {
    const now = Date.now();
    const userKey = `${username}\n${ip}`;
    const wait = Math.max(
      this.#perUser.retryAfter(userKey, now),
      this.#perClient.retryAfter(ip, now),
    );
    if (wait > 0) throw TiotaError.tooManyRequests(wait);

    // Counted as failures before the check, so parallel guesses cannot overrun the budget.
    const blocks = {
      user: this.#perUser.fail(userKey, now),
      client: this.#perClient.fail(ip, now),
    };
    const account = await this.accounts.verifyLogin(username, password);
    if (!account) {
      await this.#audited(username, ip, blocks);
      throw new TiotaError('invalid_credentials');
    }
    this.#perUser.reset(userKey);
    this.#perClient.forgive(ip);

    const role = account.role as Role;
    const actor: Actor = { name: account.username, role, ip };
    const expiresAt = now + SESSION_TTL_MS;
    const { token } = await this.db.transaction().execute(async (trx) => {
      const made = await createApiToken(trx, {
        accountId: Number(account.id),
        name: `console session from ${ip}`,
        kind: 'session',
        expiresAt,
      });
      await this.audit.record(
        actor,
        'account.login',
        `account:${account.username}`,
        {
          session: made.id,
        },
        trx,
      );
      return made;
    });
    return {
      token,
      expiresAt,
      idleTimeoutMs: this.idleTimeoutMs,
      username: account.username,
      role,
    };
  }

  /** Ends the console session the request came with; API tokens are revoked explicitly. */
  async logout(holder: TokenHolder, actor: Actor): Promise<void> {
    if (holder.tokenKind !== 'session') {
      throw new TiotaError(
        'invalid_state',
        'logout ends console sessions; revoke an API token with DELETE /api/v1/tokens/<id>',
      );
    }
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('api_tokens')
        .set({ revoked_at: Date.now() })
        .where('id', '=', holder.tokenId)
        .where('revoked_at', 'is', null)
        .execute();
      const target = `account:${holder.name}`;
      await this.audit.record(actor, 'account.logout', target, { session: holder.tokenId }, trx);
    });
  }

  async #audited(username: string, ip: string, blocks: { user: boolean; client: boolean }) {
    const actor: Actor = { name: 'anonymous', role: 'viewer', ip };
    // People type passwords into the username field: a name no account has is not recorded.
    const target = (await this.accounts.exists(username)) ? `account:${username}` : 'account:?';
    await this.audit.record(actor, 'account.login_failed', target);
    if (blocks.user || blocks.client) {
      const detail = { scope: blocks.user ? 'username+ip' : 'ip' };
      await this.audit.record(actor, 'account.login_blocked', target, detail);
    }
  }
}
