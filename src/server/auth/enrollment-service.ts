import { randomBytes } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { Actor, AuditLog } from '../domain/audit-log.js';
import type { DeviceCredentials, DeviceService } from '../domain/device-service.js';
import { TiotaError } from '../errors.js';
import type { Database, EnrollmentTokensTable } from '../store/schema.js';
import { hashApiToken } from './api-tokens.js';
import { AttemptLimiter } from './attempt-limiter.js';

export interface EnrollmentTokenView {
  readonly id: number;
  readonly name: string;
  readonly tags: string[];
  readonly profile: string | null;
  readonly maxUses: number;
  readonly used: number;
  readonly expiresAt: number;
  readonly createdAt: number;
  readonly createdBy: string;
  readonly revokedAt: number | null;
  /** Not revoked, not expired and not used up. */
  readonly active: boolean;
}

export interface EnrollmentTokenRequest {
  readonly name: string;
  readonly tags: string[];
  readonly profile?: string;
  readonly maxUses: number;
  /** Unix milliseconds, in the future and within MAX_ENROLLMENT_TTL_MS. */
  readonly expiresAt: number;
}

/** An enrollment token lives at most a year: it is meant for a production batch. */
export const MAX_ENROLLMENT_TTL_MS = 365 * 24 * 3600_000;
/** Refused enrollments per client before a 429: 20 in 15 minutes. */
const FAILURES_PER_CLIENT = { maxFailures: 20, windowMs: 15 * 60_000 };

/**
 * Fleet enrollment: an admin makes a token for a tag, limited in uses and time, and bakes it
 * into a production batch; each device trades it once for its own credentials
 * (`POST /api/v1/enroll`). A use is spent in the same transaction that registers the device,
 * so a token never registers more devices than it allows, even under concurrent enrollments.
 */
export class EnrollmentService {
  readonly #failures = new AttemptLimiter(FAILURES_PER_CLIENT);

  constructor(
    private readonly db: Kysely<Database>,
    private readonly audit: AuditLog,
    private readonly devices: DeviceService,
  ) {}

  async create(
    request: EnrollmentTokenRequest,
    actor: Actor,
  ): Promise<{ token: string; view: EnrollmentTokenView }> {
    const now = Date.now();
    if (request.expiresAt <= now || request.expiresAt > now + MAX_ENROLLMENT_TTL_MS) {
      throw new TiotaError('validation_failed', 'expiresAt must be in the future, within a year');
    }
    const token = `tiota_enroll_${randomBytes(32).toString('base64url')}`;
    const tags = [...new Set(request.tags)];
    const row = await this.db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('enrollment_tokens')
        .values({
          name: request.name,
          token_hash: hashApiToken(token),
          tags: JSON.stringify(tags),
          profile: request.profile ?? null,
          max_uses: request.maxUses,
          used_count: 0,
          expires_at: request.expiresAt,
          created_by: actor.name,
          created_at: now,
          revoked_at: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      const { name, maxUses, expiresAt } = request;
      const detail = { name, tags, maxUses, expiresAt };
      await this.audit.record(actor, 'enrollment.create', `enrollment:${inserted.id}`, detail, trx);
      return inserted;
    });
    return { token, view: toView(row, now) };
  }

  async list(): Promise<EnrollmentTokenView[]> {
    const rows = await this.db
      .selectFrom('enrollment_tokens')
      .selectAll()
      .orderBy('id', 'desc')
      .execute();
    const now = Date.now();
    return rows.map((row) => toView(row, now));
  }

  async revoke(id: number, actor: Actor): Promise<EnrollmentTokenView> {
    const row = await this.db
      .selectFrom('enrollment_tokens')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw new TiotaError('not_found', `enrollment token ${id}`);
    if (row.revoked_at === null) {
      await this.db.transaction().execute(async (trx) => {
        await trx
          .updateTable('enrollment_tokens')
          .set({ revoked_at: Date.now() })
          .where('id', '=', id)
          .execute();
        await this.audit.record(actor, 'enrollment.revoke', `enrollment:${id}`, {}, trx);
      });
    }
    const updated = await this.db
      .selectFrom('enrollment_tokens')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    return toView(updated, Date.now());
  }

  /** A device trades an enrollment token for its own credentials (shown once, like `add`). */
  async enroll(token: string, deviceId: string, ip: string): Promise<DeviceCredentials> {
    const now = Date.now();
    const wait = this.#failures.retryAfter(ip, now);
    if (wait > 0) throw TiotaError.tooManyRequests(wait);

    const row = await this.db
      .selectFrom('enrollment_tokens')
      .selectAll()
      .where('token_hash', '=', hashApiToken(token))
      .executeTakeFirst();
    if (!row || !toView(row, now).active) return this.#refuse(ip, now, row?.id);

    const actor: Actor = { name: `enrollment-token:${row.id}`, role: 'operator', ip };
    const tags = JSON.parse(row.tags) as string[];
    const input = { deviceId, tags, ...(row.profile !== null && { profile: row.profile }) };
    return this.devices.register(input, actor, async (trx) => {
      const spent = await trx
        .updateTable('enrollment_tokens')
        .set((eb) => ({ used_count: eb('used_count', '+', 1) }))
        .where('id', '=', row.id)
        .where((eb) => eb('used_count', '<', eb.ref('max_uses')))
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      // Another enrollment took the last use (or an admin revoked it) since the read above.
      if (Number(spent.numUpdatedRows) !== 1) throw new TiotaError('enrollment_refused');
    });
  }

  /** Audited, so a leaked token being tried after it was revoked or used up shows. */
  async #refuse(ip: string, now: number, tokenId: number | undefined): Promise<never> {
    const blocked = this.#failures.fail(ip, now);
    const actor: Actor = { name: 'anonymous', role: 'viewer', ip };
    const target = tokenId === undefined ? 'enrollment:unknown' : `enrollment:${tokenId}`;
    await this.audit.record(actor, 'device.enroll_refused', target, { blocked });
    throw new TiotaError('enrollment_refused');
  }
}

function toView(row: Selectable<EnrollmentTokensTable>, now: number): EnrollmentTokenView {
  const expiresAt = Number(row.expires_at);
  const revokedAt = row.revoked_at === null ? null : Number(row.revoked_at);
  const used = Number(row.used_count);
  const maxUses = Number(row.max_uses);
  return {
    id: Number(row.id),
    name: row.name,
    tags: JSON.parse(row.tags) as string[],
    profile: row.profile,
    maxUses,
    used,
    expiresAt,
    createdAt: Number(row.created_at),
    createdBy: row.created_by,
    revokedAt,
    active: revokedAt === null && expiresAt > now && used < maxUses,
  };
}
