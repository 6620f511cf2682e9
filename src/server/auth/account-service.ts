import { randomBytes } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { Actor, AuditLog, Role } from '../domain/audit-log.js';
import { TiotaError } from '../errors.js';
import type { AccountsTable, Database } from '../store/schema.js';
import { hashPassword, passwordProblem, verifyDecoy, verifyPassword } from './password-hash.js';

export interface AccountView {
  readonly username: string;
  readonly role: Role;
  readonly createdAt: number;
  readonly disabled: boolean;
  readonly disabledAt: number | null;
}

export interface AccountChange {
  readonly role?: Role;
  readonly disabled?: boolean;
  /** A new password set by an admin (a reset); ends the account's console sessions. */
  readonly password?: string;
}

/**
 * Lower-case letters, digits and `. _ -`: no `:` so a username can never pass for the
 * `enrollment-token:<id>` or `system` actors of the audit log.
 */
const USERNAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const RESERVED = new Set(['system', 'anonymous']);

/** Operator accounts: admins create them, change roles, reset passwords and disable them. */
export class AccountService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly audit: AuditLog,
  ) {}

  async list(): Promise<AccountView[]> {
    const rows = await this.db.selectFrom('accounts').selectAll().orderBy('username').execute();
    return rows.map(toAccountView);
  }

  async get(username: string): Promise<AccountView> {
    return toAccountView(await this.#row(username));
  }

  /** Creates an account; without a password one is generated and returned (shown once). */
  async create(
    input: { username: string; role: Role; password?: string },
    actor: Actor,
  ): Promise<{ account: AccountView; password?: string }> {
    if (!USERNAME_PATTERN.test(input.username) || RESERVED.has(input.username)) {
      throw new TiotaError(
        'validation_failed',
        'username must be 1-64 lower-case letters, digits and . _ - (not system or anonymous)',
      );
    }
    const generated = input.password === undefined ? randomBytes(15).toString('base64url') : null;
    const password = input.password ?? (generated as string);
    const problem = passwordProblem(password);
    if (problem) throw new TiotaError('validation_failed', problem);

    const passwordHash = await hashPassword(password);
    const existing = await this.db
      .selectFrom('accounts')
      .select('id')
      .where('username', '=', input.username)
      .executeTakeFirst();
    if (existing) throw new TiotaError('account_exists', input.username);
    const row = await this.db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('accounts')
        .values({
          username: input.username,
          password_hash: passwordHash,
          role: input.role,
          created_at: Date.now(),
          disabled_at: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      const detail = { role: input.role, passwordGenerated: generated !== null };
      await this.audit.record(actor, 'account.create', `account:${input.username}`, detail, trx);
      return inserted;
    });
    return { account: toAccountView(row), ...(generated !== null && { password: generated }) };
  }

  /**
   * Changes role, enabled state or password. Disabling revokes every token of the account, so
   * enabling it again does not bring old tokens back; a password reset ends its sessions.
   */
  async update(username: string, change: AccountChange, actor: Actor): Promise<AccountView> {
    const row = await this.#row(username);
    const role = (change.role ?? row.role) as Role;
    const disabling = change.disabled === true && row.disabled_at === null;
    const wasAdmin = row.role === 'admin' && row.disabled_at === null;
    if (wasAdmin && (role !== 'admin' || disabling)) await this.#keepAnAdmin(row);
    if (change.password !== undefined) {
      const problem = passwordProblem(change.password);
      if (problem) throw new TiotaError('validation_failed', problem);
    }
    const passwordHash = change.password === undefined ? null : await hashPassword(change.password);

    const now = Date.now();
    const disabledAt =
      change.disabled === undefined
        ? row.disabled_at
        : change.disabled
          ? (row.disabled_at ?? now)
          : null;
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('accounts')
        .set({
          role,
          disabled_at: disabledAt,
          ...(passwordHash && { password_hash: passwordHash }),
        })
        .where('id', '=', row.id)
        .execute();
      if (disabling || passwordHash) {
        let revoke = trx
          .updateTable('api_tokens')
          .set({ revoked_at: now })
          .where('account_id', '=', row.id)
          .where('revoked_at', 'is', null);
        if (!disabling) revoke = revoke.where('kind', '=', 'session');
        await revoke.execute();
      }
      const detail: Record<string, unknown> = {};
      if (role !== row.role) Object.assign(detail, { role, previousRole: row.role });
      if (change.disabled !== undefined) detail.disabled = change.disabled;
      if (passwordHash) detail.passwordReset = true;
      await this.audit.record(actor, 'account.update', `account:${username}`, detail, trx);
    });
    return this.get(username);
  }

  /** An operator changes their own password; their other console sessions end. */
  async changeOwnPassword(
    accountId: number,
    current: string,
    next: string,
    keepTokenId: number,
    actor: Actor,
  ): Promise<void> {
    const row = await this.db
      .selectFrom('accounts')
      .selectAll()
      .where('id', '=', accountId)
      .executeTakeFirstOrThrow();
    if (!(await verifyPassword(current, row.password_hash))) throw new TiotaError('wrong_password');
    const problem = passwordProblem(next);
    if (problem) throw new TiotaError('validation_failed', problem);
    const passwordHash = await hashPassword(next);
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('accounts')
        .set({ password_hash: passwordHash })
        .where('id', '=', accountId)
        .execute();
      await trx
        .updateTable('api_tokens')
        .set({ revoked_at: Date.now() })
        .where('account_id', '=', accountId)
        .where('kind', '=', 'session')
        .where('id', '!=', keepTokenId)
        .where('revoked_at', 'is', null)
        .execute();
      await this.audit.record(actor, 'account.password', `account:${row.username}`, {}, trx);
    });
  }

  /**
   * The account a username and password open, or null. Unknown and disabled accounts cost the
   * same scrypt time as a wrong password, so timing does not reveal which usernames exist.
   */
  async verifyLogin(username: string, password: string): Promise<Selectable<AccountsTable> | null> {
    const row = await this.db
      .selectFrom('accounts')
      .selectAll()
      .where('username', '=', username)
      .executeTakeFirst();
    if (!row || row.disabled_at !== null) return verifyDecoy(password).then(() => null);
    return (await verifyPassword(password, row.password_hash)) ? row : null;
  }

  async exists(username: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('accounts')
      .select('id')
      .where('username', '=', username)
      .executeTakeFirst();
    return row !== undefined;
  }

  async #keepAnAdmin(row: Selectable<AccountsTable>): Promise<void> {
    const others = await this.db
      .selectFrom('accounts')
      .select('id')
      .where('role', '=', 'admin')
      .where('disabled_at', 'is', null)
      .where('id', '!=', row.id)
      .limit(1)
      .executeTakeFirst();
    if (!others) throw new TiotaError('last_admin', row.username);
  }

  async #row(username: string): Promise<Selectable<AccountsTable>> {
    const row = await this.db
      .selectFrom('accounts')
      .selectAll()
      .where('username', '=', username)
      .executeTakeFirst();
    if (!row) throw new TiotaError('not_found', `account ${username}`);
    return row;
  }
}

export function toAccountView(row: Selectable<AccountsTable>): AccountView {
  return {
    username: row.username,
    role: row.role as Role,
    createdAt: Number(row.created_at),
    disabled: row.disabled_at !== null,
    disabledAt: row.disabled_at === null ? null : Number(row.disabled_at),
  };
}
