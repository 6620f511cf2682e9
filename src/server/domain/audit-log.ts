import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';

/** Who acted: an operator account (through a token or a console session) or the system. */
export interface Actor {
  readonly name: string;
  readonly role: Role;
  readonly ip?: string | null;
}

export type Role = 'admin' | 'operator' | 'viewer';
export const SYSTEM_ACTOR: Actor = { name: 'system', role: 'admin' };

export interface AuditEntry {
  readonly id: number;
  readonly at: number;
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly detail: Record<string, unknown>;
  readonly ip: string | null;
}

/** The append-only record of every mutating action (the table refuses updates and deletes). */
export class AuditLog {
  constructor(private readonly db: Kysely<Database>) {}

  async record(
    actor: Actor,
    action: string,
    target: string,
    detail: Record<string, unknown> = {},
    db: Kysely<Database> = this.db,
  ): Promise<void> {
    await db
      .insertInto('audit_log')
      .values({
        at: Date.now(),
        actor: actor.name,
        action,
        target,
        detail: JSON.stringify(detail),
        ip: actor.ip ?? null,
      })
      .execute();
  }

  async list(filter: { actor?: string; action?: string; limit?: number; before?: number }) {
    let query = this.db.selectFrom('audit_log').selectAll().orderBy('id', 'desc');
    if (filter.actor) query = query.where('actor', '=', filter.actor);
    if (filter.action) query = query.where('action', '=', filter.action);
    if (filter.before) query = query.where('id', '<', filter.before);
    const rows = await query.limit(Math.min(filter.limit ?? 100, 1000)).execute();
    return rows.map((r): AuditEntry => ({
      ...r,
      id: Number(r.id),
      detail: JSON.parse(r.detail) as Record<string, unknown>,
    }));
  }
}
