import type { Kysely, Selectable } from 'kysely';
import { TiotaError } from '../errors.js';
import type { Database, RolloutsTable } from '../store/schema.js';
import { ACTION_STATES, ACTIVE_STATES, hasStarted, type ActionState } from './action-state.js';
import type { Actor, AuditLog } from './audit-log.js';
import { commandId } from './command-issuer.js';
import type { PackageService, PackageView } from './package-service.js';
import { parseSettings, type RolloutSettings } from './rollout-settings.js';
import { parseTarget, resolveTarget, type RolloutTarget } from './rollout-target.js';

/** Stored rollout statuses; never change a value's meaning. */
export type RolloutStatus = 'running' | 'paused' | 'completed' | 'canceled';

export interface RolloutView {
  readonly id: number;
  readonly name: string;
  readonly status: RolloutStatus;
  readonly package: { id: number; app: string; version: string; size: number };
  readonly target: RolloutTarget;
  readonly settings: RolloutSettings;
  readonly currentBatch: number;
  readonly batchCount: number;
  readonly pauseReason: string | null;
  readonly createdBy: string;
  readonly createdAt: number;
  readonly finishedAt: number | null;
  readonly counts: Record<ActionState, number>;
  readonly batches: { batch: number; size: number; counts: Partial<Record<ActionState, number>> }[];
}

export interface CreateRollout {
  readonly name?: string;
  readonly packageId: number;
  readonly target: unknown;
  readonly settings?: unknown;
}

/** Creating, listing and steering rollouts; the engine (rollout-engine.ts) moves them. */
export class RolloutService {
  /** Called after a change the engine should act on soon. */
  onChange: () => void = () => undefined;
  /** Sends cancel commands for actions that were sent but not started. */
  onActionsCanceled: (actions: { actionId: number; attempt: number; deviceRowId: number }[]) => void =
    () => undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly packages: PackageService,
    private readonly audit: AuditLog,
  ) {}

  /** Resolves targets and splits them into batches without storing anything. */
  async plan(input: CreateRollout) {
    const pkg = await this.packages.get(input.packageId);
    const target = parseTarget(input.target);
    const settings = parseSettings(input.settings);
    const devices = await resolveTarget(this.db, target);
    if (devices.length === 0) throw new TiotaError('no_devices', JSON.stringify(target));
    const batchSize = settings.batchSize > 0 ? settings.batchSize : devices.length;
    const batches: string[][] = [];
    for (let i = 0; i < devices.length; i += batchSize) {
      batches.push(devices.slice(i, i + batchSize).map((d) => d.device_id));
    }
    return { pkg, target, settings, devices, batches };
  }

  async create(input: CreateRollout, actor: Actor): Promise<RolloutView> {
    const { pkg, target, settings, devices, batches } = await this.plan(input);
    const now = Date.now();
    const batchOf = new Map<string, number>();
    batches.forEach((ids, batch) => ids.forEach((id) => batchOf.set(id, batch)));

    const id = await this.db.transaction().execute(async (trx) => {
      const rollout = await trx
        .insertInto('rollouts')
        .values({
          name: input.name ?? `${pkg.app} ${pkg.version}`,
          package_id: pkg.id,
          status: 'running',
          settings: JSON.stringify(settings),
          target: JSON.stringify(target),
          current_batch: 0,
          batch_count: batches.length,
          pause_reason: null,
          created_by: actor.name,
          created_at: now,
          started_at: now,
          finished_at: null,
          updated_at: now,
          lease_owner: null,
          lease_expires_at: null,
          batch_started_at: now,
          next_step_at: now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const rolloutId = Number(rollout.id);
      await this.#supersede(trx, devices.map((d) => Number(d.id)), now);
      for (let i = 0; i < devices.length; i += 500) {
        await trx
          .insertInto('actions')
          .values(
            devices.slice(i, i + 500).map((d) => ({
              rollout_id: rolloutId,
              device_row_id: Number(d.id),
              package_id: pkg.id,
              batch: batchOf.get(d.device_id)!,
              state: 'queued',
              from_version: d.app_version,
              attempt: 0,
              command_id: null,
              bytes_served: 0,
              error_code: null,
              error_detail: null,
              created_at: now,
              updated_at: now,
              sent_at: null,
              deadline_at: null,
              retry_at: null,
              finished_at: null,
            })),
          )
          .execute();
      }
      await this.audit.record(
        actor,
        'rollout.create',
        `rollout:${rolloutId}`,
        { packageId: pkg.id, devices: devices.length, batches: batches.length },
        trx,
      );
      return rolloutId;
    });
    this.onChange();
    return this.get(id);
  }

  /**
   * A newer assignment supersedes an older one the device has not started: the older action is
   * canceled (reason `superseded`) so the device receives only the newest command.
   */
  async #supersede(trx: Kysely<Database>, deviceRowIds: number[], now: number): Promise<void> {
    const canceled: { actionId: number; attempt: number; deviceRowId: number }[] = [];
    for (let i = 0; i < deviceRowIds.length; i += 500) {
      const older = await trx
        .selectFrom('actions')
        .select(['id', 'state', 'attempt', 'device_row_id'])
        .where('device_row_id', 'in', deviceRowIds.slice(i, i + 500))
        .where('state', 'in', [...ACTIVE_STATES])
        .execute();
      const notStarted = older.filter((a) => !hasStarted(a.state as ActionState));
      if (notStarted.length === 0) continue;
      await trx
        .updateTable('actions')
        .set({ state: 'canceled', error_code: 'superseded', finished_at: now, updated_at: now, deadline_at: null })
        .where('id', 'in', notStarted.map((a) => a.id))
        .execute();
      for (const a of notStarted) {
        if (a.state !== 'queued') {
          canceled.push({ actionId: Number(a.id), attempt: a.attempt, deviceRowId: Number(a.device_row_id) });
        }
      }
    }
    // Cancel commands are sent by whoever owns the bus; older rollouts re-check their batch.
    if (canceled.length) queueMicrotask(() => this.onActionsCanceled(canceled));
  }

  async list(filter: { status?: string } = {}): Promise<RolloutView[]> {
    let query = this.db.selectFrom('rollouts').selectAll().orderBy('id', 'desc').limit(200);
    if (filter.status) query = query.where('status', '=', filter.status);
    const rows = await query.execute();
    return Promise.all(rows.map((r) => this.#view(r)));
  }

  async get(id: number): Promise<RolloutView> {
    return this.#view(await this.row(id));
  }

  async row(id: number): Promise<Selectable<RolloutsTable>> {
    const row = await this.db.selectFrom('rollouts').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new TiotaError('not_found', `rollout ${id}`);
    return row;
  }

  /** The resolved devices of a rollout with each one's action. */
  async actions(id: number, filter: { state?: string; batch?: number } = {}) {
    await this.row(id);
    let query = this.db
      .selectFrom('actions')
      .innerJoin('devices', 'devices.id', 'actions.device_row_id')
      .select([
        'actions.id',
        'devices.device_id',
        'actions.batch',
        'actions.state',
        'actions.attempt',
        'actions.from_version',
        'actions.bytes_served',
        'actions.error_code',
        'actions.error_detail',
        'actions.updated_at',
      ])
      .where('actions.rollout_id', '=', id)
      .orderBy('actions.id');
    if (filter.state) query = query.where('actions.state', '=', filter.state);
    if (filter.batch !== undefined) query = query.where('actions.batch', '=', filter.batch);
    const rows = await query.execute();
    return rows.map((r) => ({
      id: Number(r.id),
      deviceId: r.device_id,
      batch: r.batch,
      state: r.state as ActionState,
      attempt: r.attempt,
      commandId: r.attempt > 0 ? commandId(Number(r.id), r.attempt) : null,
      fromVersion: r.from_version,
      bytesServed: Number(r.bytes_served),
      errorCode: r.error_code,
      errorDetail: r.error_detail,
      updatedAt: Number(r.updated_at),
    }));
  }

  async pause(id: number, actor: Actor, reason = 'paused by operator'): Promise<RolloutView> {
    const row = await this.row(id);
    if (row.status === 'paused') return this.#view(row);
    if (row.status !== 'running') throw new TiotaError('invalid_state', `rollout ${id} is ${row.status}`);
    await this.#setStatus(id, 'running', { status: 'paused', pause_reason: reason }, actor, 'rollout.pause');
    return this.get(id);
  }

  async resume(id: number, actor: Actor): Promise<RolloutView> {
    const row = await this.row(id);
    if (row.status === 'running') return this.#view(row);
    if (row.status !== 'paused') throw new TiotaError('invalid_state', `rollout ${id} is ${row.status}`);
    await this.#setStatus(id, 'paused', { status: 'running', pause_reason: null }, actor, 'rollout.resume');
    this.onChange();
    return this.get(id);
  }

  /**
   * Cancels a rollout: queued actions are canceled, sent-but-not-started ones are canceled and
   * told so; devices already downloading or installing finish or fail on their own.
   */
  async cancel(id: number, actor: Actor): Promise<RolloutView> {
    const row = await this.row(id);
    if (row.status === 'canceled' || row.status === 'completed') {
      throw new TiotaError('invalid_state', `rollout ${id} is ${row.status}`);
    }
    const now = Date.now();
    const told = await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('rollouts')
        .set({ status: 'canceled', finished_at: now, updated_at: now })
        .where('id', '=', id)
        .execute();
      const notStarted = await trx
        .selectFrom('actions')
        .select(['id', 'state', 'attempt', 'device_row_id'])
        .where('rollout_id', '=', id)
        .where('state', 'in', ['queued', 'sent', 'accepted'])
        .execute();
      if (notStarted.length) {
        await trx
          .updateTable('actions')
          .set({ state: 'canceled', error_code: 'rollout_canceled', finished_at: now, updated_at: now, deadline_at: null })
          .where('rollout_id', '=', id)
          .where('state', 'in', ['queued', 'sent', 'accepted'])
          .execute();
      }
      await this.audit.record(actor, 'rollout.cancel', `rollout:${id}`, { canceled: notStarted.length }, trx);
      return notStarted
        .filter((a) => a.state !== 'queued')
        .map((a) => ({ actionId: Number(a.id), attempt: a.attempt, deviceRowId: Number(a.device_row_id) }));
    });
    if (told.length) this.onActionsCanceled(told);
    this.onChange();
    return this.get(id);
  }

  async #setStatus(
    id: number,
    from: RolloutStatus,
    set: { status: RolloutStatus; pause_reason: string | null },
    actor: Actor,
    action: string,
  ): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('rollouts')
        .set({ ...set, updated_at: Date.now() })
        .where('id', '=', id)
        .where('status', '=', from)
        .execute();
      await this.audit.record(actor, action, `rollout:${id}`, set.pause_reason ? { reason: set.pause_reason } : {}, trx);
    });
  }

  async #view(row: Selectable<RolloutsTable>): Promise<RolloutView> {
    const pkg: PackageView | null = await this.packages.get(row.package_id).catch(() => null);
    const grouped = await this.db
      .selectFrom('actions')
      .select(['batch', 'state', (eb) => eb.fn.countAll<number>().as('n')])
      .where('rollout_id', '=', row.id)
      .groupBy(['batch', 'state'])
      .execute();
    const counts = Object.fromEntries(ACTION_STATES.map((s) => [s, 0])) as Record<ActionState, number>;
    const batches = new Map<number, { batch: number; size: number; counts: Partial<Record<ActionState, number>> }>();
    for (const g of grouped) {
      const n = Number(g.n);
      counts[g.state as ActionState] += n;
      const b = batches.get(g.batch) ?? { batch: g.batch, size: 0, counts: {} };
      b.size += n;
      b.counts[g.state as ActionState] = n;
      batches.set(g.batch, b);
    }
    return {
      id: Number(row.id),
      name: row.name,
      status: row.status as RolloutStatus,
      package: pkg
        ? { id: pkg.id, app: pkg.app, version: pkg.version, size: pkg.size }
        : { id: row.package_id, app: '(deleted)', version: '', size: 0 },
      target: JSON.parse(row.target) as RolloutTarget,
      settings: JSON.parse(row.settings) as RolloutSettings,
      currentBatch: row.current_batch,
      batchCount: row.batch_count,
      pauseReason: row.pause_reason,
      createdBy: row.created_by,
      createdAt: Number(row.created_at),
      finishedAt: row.finished_at === null ? null : Number(row.finished_at),
      counts,
      batches: [...batches.values()].sort((a, b) => a.batch - b.batch),
    };
  }
}
