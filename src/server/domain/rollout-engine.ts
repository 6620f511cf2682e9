import type { Kysely } from 'kysely';
import type { Logger } from '../log.js';
import type { Database } from '../store/schema.js';
import { ACTIVE_STATES, type ActionState } from './action-state.js';
import { moveAction } from './action-store.js';
import { commandId, type CommandIssuer } from './command-issuer.js';
import type { DeviceService } from './device-service.js';
import type { PackageService } from './package-service.js';
import type { RolloutLease } from './rollout-lease.js';
import type { RolloutSettings } from './rollout-settings.js';

/**
 * Advances running rollouts: sends the current batch's commands, times out silent devices and
 * moves to the next batch when the current one is done. All state lives in the database, so a
 * restarted server continues where the last one stopped.
 */
export class RolloutEngine {
  /** Which rollouts this replica may advance (rollout-lease.ts); null advances every one. */
  lease: RolloutLease | null = null;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly packages: PackageService,
    private readonly devices: DeviceService,
    private readonly issuer: CommandIssuer,
    private readonly log: Logger,
    private readonly intervalMs = 1000,
    private readonly nowMs: () => number = Date.now,
  ) {}

  start(): void {
    this.#stopped = false;
    this.#timer = setInterval(() => this.kick(), this.intervalMs);
    this.kick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#running;
    await this.lease?.release();
  }

  /** Asks for a pass soon; passes never overlap, and a kick during one causes one more. */
  kick(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.tick()
      .catch((error: unknown) => this.log.error({ err: error }, 'rollout pass failed'))
      .finally(() => {
        this.#running = null;
        if (this.#again) {
          this.#again = false;
          this.kick();
        }
      });
  }

  /** One pass over every running rollout. */
  async tick(): Promise<void> {
    await this.#timeOutSilentDevices();
    const rollouts = await this.db
      .selectFrom('rollouts')
      .select(['id', 'package_id', 'current_batch', 'batch_count', 'settings'])
      .where('status', '=', 'running')
      .execute();
    for (const rollout of rollouts) {
      if (this.#stopped) return;
      if (this.lease && !(await this.lease.hold(Number(rollout.id)))) continue;
      await this.#advance({
        id: Number(rollout.id),
        packageId: rollout.package_id,
        batch: rollout.current_batch,
        batchCount: rollout.batch_count,
        settings: JSON.parse(rollout.settings) as RolloutSettings,
      });
    }
  }

  async #advance(rollout: {
    id: number;
    packageId: number;
    batch: number;
    batchCount: number;
    settings: RolloutSettings;
  }): Promise<void> {
    await this.#sendQueued(rollout);
    const open = await this.db
      .selectFrom('actions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('rollout_id', '=', rollout.id)
      .where('batch', '=', rollout.batch)
      .where('state', 'in', [...ACTIVE_STATES])
      .executeTakeFirstOrThrow();
    if (Number(open.n) > 0) return;

    const now = this.nowMs();
    const next = rollout.batch + 1;
    const done = next >= rollout.batchCount;
    await this.db
      .updateTable('rollouts')
      .set(
        done
          ? { status: 'completed', finished_at: now, updated_at: now }
          : { current_batch: next, batch_started_at: now, updated_at: now },
      )
      .where('id', '=', rollout.id)
      .where('status', '=', 'running')
      .where('current_batch', '=', rollout.batch)
      .execute();
    this.log.info({ rolloutId: rollout.id, batch: rollout.batch }, done ? 'rollout completed' : 'batch done');
    if (!done) this.kick();
  }

  async #sendQueued(rollout: { id: number; packageId: number; batch: number; settings: RolloutSettings }) {
    const queued = await this.db
      .selectFrom('actions')
      .innerJoin('devices', 'devices.id', 'actions.device_row_id')
      .select(['actions.id', 'actions.state', 'actions.attempt', 'actions.device_row_id', 'devices.device_id'])
      .where('actions.rollout_id', '=', rollout.id)
      .where('actions.batch', '=', rollout.batch)
      .where('actions.state', '=', 'queued')
      .execute();
    if (queued.length === 0) return;
    const pkg = await this.packages.get(rollout.packageId);

    for (const action of queued) {
      const now = this.nowMs();
      const attempt = action.attempt + 1;
      const moved = await moveAction(
        this.db,
        { id: action.id, state: action.state },
        {
          state: 'sent',
          attempt,
          commandId: commandId(Number(action.id), attempt),
          sentAt: now,
          deadlineAt: now + rollout.settings.ackTimeoutSeconds * 1000,
        },
        now,
      );
      if (!moved) continue;
      const target = {
        actionId: Number(action.id),
        attempt,
        deviceId: action.device_id,
        deviceRowId: Number(action.device_row_id),
      };
      const command = await this.issuer.sendInstall(target, pkg);
      await this.devices.recordEvent(target.deviceRowId, target.actionId, 'command', {
        cmd: command.id,
        version: pkg.version,
        url: command.url,
      });
    }
  }

  async #timeOutSilentDevices(): Promise<void> {
    const now = this.nowMs();
    const late = await this.db
      .selectFrom('actions')
      .select(['id', 'state', 'device_row_id'])
      .where('deadline_at', '<', now)
      .where('state', 'in', [...ACTIVE_STATES])
      .limit(1000)
      .execute();
    for (const action of late) {
      const moved = await moveAction(
        this.db,
        action,
        { state: 'timed_out', errorCode: `timeout_${action.state as ActionState}` },
        now,
      );
      if (moved) {
        await this.devices.recordEvent(Number(action.device_row_id), Number(action.id), 'timed_out', {
          state: action.state,
        });
      }
    }
  }
}
