import type { Kysely, Selectable } from 'kysely';
import { TiotaError } from '../errors.js';
import type { Database, DevicesTable, RolloutsTable } from '../store/schema.js';
import type { ActionState } from './action-state.js';
import type { Actor, AuditLog } from './audit-log.js';
import { splitIntoBatches } from './batch-plan.js';
import { commandId } from './command-issuer.js';
import type { PackageService, PackageView } from './package-service.js';
import { buildPlan, DEFAULT_LIMITS, type PacingLimits, type RolloutPlan } from './rollout-plan.js';
import { parseSettings, storedSettings, type RolloutSettings } from './rollout-settings.js';
import { supersedeOlder, type CanceledCommand } from './rollout-supersede.js';
import { parseTarget, resolveTarget, type RolloutTarget } from './rollout-target.js';
import { resumeState } from './rollout-resume.js';
import { rolloutView, type RolloutStatus, type RolloutView } from './rollout-view.js';

export type { RolloutStatus, RolloutView } from './rollout-view.js';

export interface CreateRollout {
  readonly name?: string;
  readonly packageId: number;
  readonly target: unknown;
  readonly settings?: unknown;
}

/** A rollout worked out but not stored: what a dry run shows. */
export interface PlannedRollout {
  readonly pkg: PackageView;
  readonly target: RolloutTarget;
  readonly settings: RolloutSettings;
  readonly devices: Selectable<DevicesTable>[];
  /** Device ids per batch, in the order they will be sent. */
  readonly batches: string[][];
  readonly plan: RolloutPlan;
}

/** Rows per insert: 17 columns × 1500 rows stays under SQLite's 32,766 bound parameters. */
const INSERT_CHUNK = 1500;

/** Creating, listing and steering rollouts; the engine (rollout-engine.ts) moves them. */
export class RolloutService {
  /** Called after a change the engine should act on soon. */
  onChange: () => void = () => undefined;
  /** Sends cancel commands for actions that were sent but not started. */
  onActionsCanceled: (actions: CanceledCommand[]) => void = () => undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly packages: PackageService,
    private readonly audit: AuditLog,
    private readonly limits: PacingLimits = DEFAULT_LIMITS,
  ) {}

  /** Resolves targets, splits them into batches and paces them, storing nothing. */
  async plan(input: CreateRollout): Promise<PlannedRollout> {
    const pkg = await this.packages.get(input.packageId);
    const target = parseTarget(input.target);
    const settings = parseSettings(input.settings);
    // A device already running this app at this version has nothing to install: counting it
    // would leave an action no device will ever answer.
    const devices = (await resolveTarget(this.db, target)).filter(
      (d) => !(d.app_name === pkg.app && d.app_version === pkg.version),
    );
    if (devices.length === 0) {
      throw new TiotaError(
        'no_devices',
        `${JSON.stringify(target)} (devices already running ${pkg.app} ${pkg.version} are left out)`,
      );
    }
    const plan = buildPlan({
      profiles: devices.map((d) => d.profile),
      packageSize: pkg.size,
      settings,
      limits: this.limits,
    });
    const sizes = plan.batches.map((b) => b.size);
    const batches = splitIntoBatches(devices, sizes).map((b) => b.map((d) => d.device_id));
    return { pkg, target, settings, devices, batches, plan };
  }

  async create(input: CreateRollout, actor: Actor): Promise<RolloutView> {
    const { pkg, target, settings, devices, plan } = await this.plan(input);
    const now = Date.now();
    const batchOf: number[] = plan.batches.flatMap((b) => Array<number>(b.size).fill(b.batch));
    // The first batch starts now: an offline device in it times out after the ack deadline.
    const firstDeadline = now + settings.ackTimeoutSeconds * 1000;

    const { id, told } = await this.db.transaction().execute(async (trx) => {
      await this.packages.holdForRollout(trx, pkg.id);
      const rollout = await trx
        .insertInto('rollouts')
        .values({
          name: input.name ?? `${pkg.app} ${pkg.version}`,
          package_id: pkg.id,
          status: 'running',
          settings: JSON.stringify(settings),
          target: JSON.stringify(target),
          current_batch: 0,
          batch_count: plan.batches.length,
          pause_reason: null,
          created_by: actor.name,
          created_at: now,
          started_at: now,
          finished_at: null,
          updated_at: now,
          lease_owner: null,
          lease_expires_at: null,
          batch_started_at: now,
          next_step_at: null,
          plan: JSON.stringify(plan),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const rolloutId = Number(rollout.id);
      const told = await supersedeOlder(
        trx,
        pkg.app,
        devices.map((d) => Number(d.id)),
        now,
      );
      for (let i = 0; i < devices.length; i += INSERT_CHUNK) {
        await trx
          .insertInto('actions')
          .values(
            devices.slice(i, i + INSERT_CHUNK).map((d, j) => ({
              rollout_id: rolloutId,
              device_row_id: Number(d.id),
              package_id: pkg.id,
              batch: batchOf[i + j],
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
              deadline_at: batchOf[i + j] === 0 ? firstDeadline : null,
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
        { packageId: pkg.id, devices: devices.length, batches: plan.batches.length },
        trx,
      );
      return { id: rolloutId, told };
    });
    // Cancel commands go out through whoever owns the bus; older rollouts re-check their batch.
    if (told.length) this.onActionsCanceled(told);
    this.onChange();
    return this.get(id);
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
    const row = await this.db
      .selectFrom('rollouts')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
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
        'actions.retry_at',
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
      retryAt: r.retry_at === null ? null : Number(r.retry_at),
      updatedAt: Number(r.updated_at),
    }));
  }

  /** Pauses a running rollout; pausing a paused one changes nothing and is no error. */
  async pause(id: number, actor: Actor, reason = 'paused by operator'): Promise<RolloutView> {
    const row = await this.row(id);
    if (row.status === 'paused') return this.#view(row);
    if (row.status !== 'running')
      throw new TiotaError('invalid_state', `rollout ${id} is ${row.status}`);
    await this.#transition(
      id,
      'running',
      { status: 'paused', pause_reason: reason },
      actor,
      'rollout.pause',
    );
    return this.get(id);
  }

  /**
   * Resumes a paused rollout: errors so far are accepted and a decided batch is approved
   * (rollout-resume.ts). Offline devices of started batches get a fresh admission deadline.
   */
  async resume(id: number, actor: Actor): Promise<RolloutView> {
    const row = await this.row(id);
    if (row.status === 'running') return this.#view(row);
    if (row.status !== 'paused')
      throw new TiotaError('invalid_state', `rollout ${id} is ${row.status}`);
    const resumed = await this.#transition(
      id,
      'paused',
      { status: 'running', pause_reason: null, ...(await resumeState(this.db, row)) },
      actor,
      'rollout.resume',
    );
    if (resumed) {
      const ackSeconds = storedSettings(row.settings).ackTimeoutSeconds;
      await this.db
        .updateTable('actions')
        .set({ deadline_at: Date.now() + ackSeconds * 1000 })
        .where('rollout_id', '=', id)
        .where('batch', '<=', row.current_batch)
        .where('state', '=', 'queued')
        .execute();
    }
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
        // A pause's reason no longer applies: left, it would read as why it was canceled.
        .set({ status: 'canceled', pause_reason: null, finished_at: now, updated_at: now })
        .where('id', '=', id)
        .execute();
      const notStarted = await trx
        .updateTable('actions')
        .set({
          state: 'canceled',
          error_code: 'rollout_canceled',
          finished_at: now,
          updated_at: now,
          deadline_at: null,
        })
        .where('rollout_id', '=', id)
        .where('state', 'in', ['queued', 'sent', 'accepted'])
        // The state it had before this update: PostgreSQL and SQLite return the new row, so
        // sent_at tells a command that went out (sent/accepted) from one never sent.
        .returning(['id', 'attempt', 'device_row_id', 'sent_at', 'retry_at'])
        .execute();
      await this.audit.record(
        actor,
        'rollout.cancel',
        `rollout:${id}`,
        { canceled: notStarted.length },
        trx,
      );
      return notStarted
        .filter((a) => a.sent_at !== null && a.retry_at === null)
        .map((a) => ({
          actionId: Number(a.id),
          attempt: a.attempt,
          deviceRowId: Number(a.device_row_id),
        }));
    });
    if (told.length) this.onActionsCanceled(told);
    this.onChange();
    return this.get(id);
  }

  async #transition(
    id: number,
    from: RolloutStatus,
    set: {
      status: RolloutStatus;
      pause_reason: string | null;
      approved_batch?: number;
      error_ack?: string;
    },
    actor: Actor,
    action: string,
  ): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable('rollouts')
        .set({ ...set, updated_at: Date.now() })
        .where('id', '=', id)
        .where('status', '=', from)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) return false;
      const detail = set.pause_reason ? { reason: set.pause_reason } : {};
      await this.audit.record(actor, action, `rollout:${id}`, detail, trx);
      return true;
    });
  }

  async #view(row: Selectable<RolloutsTable>): Promise<RolloutView> {
    const pkg = await this.packages.get(row.package_id).catch(() => null);
    return rolloutView(this.db, row, pkg);
  }
}
