import type { Kysely } from 'kysely';
import type { HelloMessage, StatusMessage } from '../../shared/protocol/messages.js';
import type { Logger } from '../log.js';
import type { Database } from '../store/schema.js';
import {
  ACTIVE_STATES,
  canMove,
  IN_FLIGHT_STATES,
  isTerminal,
  stepOf,
  type ActionState,
} from './action-state.js';
import { failureChange } from './action-retry.js';
import { actionById, moveAction, type ActionChange, type ActionRow } from './action-store.js';
import { commandId, parseCommandId, type CommandIssuer } from './command-issuer.js';
import type { DeviceService } from './device-service.js';
import type { PackageService, PackageView } from './package-service.js';
import type { RolloutSettings } from './rollout-settings.js';
import { RolloutSettingsCache } from './rollout-settings-cache.js';

/** States in which the device has begun installing: an old version now means it failed. */
const STARTED: readonly ActionState[] = ['downloading', 'downloaded', 'installing', 'restarting'];

/**
 * Turns what devices say (hello, status) and what the download server sees into action
 * transitions. Success comes only from the device reporting the target version after its
 * restart; a report of the old version after an attempt began is a failure. Reports for an
 * older attempt, an earlier step or a finished action change nothing.
 */
export class DeviceReportHandler {
  /**
   * Called after a change the engine should act on: an action finished or was queued for a
   * retry, a download slot freed, or a device with a queued action came online.
   */
  onFinished: () => void = () => undefined;
  readonly #settings: RolloutSettingsCache;
  readonly #packages = new Map<number, PackageView>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly devices: DeviceService,
    private readonly packages: PackageService,
    private readonly issuer: CommandIssuer,
    private readonly log: Logger,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.#settings = new RolloutSettingsCache(db);
  }

  async hello(deviceRowId: number, deviceId: string, hello: HelloMessage): Promise<void> {
    const now = this.nowMs();
    // The device row and what the hello means for its action share one group commit.
    const recorded = this.devices.recordHello(deviceRowId, hello, now);
    await Promise.all([recorded, this.#afterHello(deviceRowId, deviceId, hello, now, recorded)]);
  }

  async #afterHello(
    deviceRowId: number,
    deviceId: string,
    hello: HelloMessage,
    now: number,
    recorded: Promise<void>,
  ): Promise<void> {
    const actions = await this.db
      .selectFrom('actions')
      .selectAll()
      .where('device_row_id', '=', deviceRowId)
      .where('state', 'in', [...ACTIVE_STATES])
      .orderBy('id', 'desc')
      .execute();
    const action = actions.find((a) => a.state !== 'queued') ?? actions[0];
    if (!action) return;
    const pkg = await this.#package(action.package_id);

    if (hello.version === pkg.version && (hello.app === pkg.app || !hello.app)) {
      await this.#end(action, { version: hello.version }, now, {
        state: 'succeeded',
        errorCode: null,
      });
      return;
    }
    if (action.state === 'queued') {
      // Online now: the engine may send it its command, once the database says so.
      await recorded;
      this.onFinished();
      return;
    }
    const cmd = commandId(Number(action.id), action.attempt);
    if (hello.busy === cmd) return;
    if (STARTED.includes(action.state as ActionState)) {
      // Back on the old version after the install began: the attempt failed. Past the download
      // it is a rollback (the new app was installed or tried); before, a download failure.
      const past = action.state !== 'downloading';
      const code = hello.last?.cmd === cmd ? hello.last.code : undefined;
      const reason =
        code !== undefined
          ? `ota_${code}`
          : past
            ? 'came_back_on_old_version'
            : 'download_incomplete';
      await this.#fail(
        action,
        past ? 'rolled_back' : 'failed',
        reason,
        { version: hello.version, code },
        now,
      );
      return;
    }
    // Sent but not started: the device (re)connected, so (re)send the same command.
    await this.issuer.sendInstall(
      { actionId: Number(action.id), attempt: action.attempt, deviceId, deviceRowId },
      pkg,
    );
  }

  async status(deviceRowId: number, report: StatusMessage): Promise<void> {
    const now = this.nowMs();
    const ref = parseCommandId(report.cmd);
    const action = ref ? await actionById(this.db, ref.actionId) : undefined;
    if (!ref || !action || Number(action.device_row_id) !== deviceRowId) {
      this.log.info({ deviceRowId, cmd: report.cmd }, 'status for an unknown command dropped');
      return;
    }
    // The history row and the move it causes go into the same group commit: not awaited
    // one after the other, which would cost a commit each.
    const recorded = this.devices.recordEvent(
      deviceRowId,
      Number(action.id),
      `status.${report.state}`,
      { ...report },
      now,
    );
    await Promise.all([recorded, this.#apply(action, ref.attempt, report, now)]);
  }

  async #apply(
    action: ActionRow,
    attempt: number,
    report: StatusMessage,
    now: number,
  ): Promise<void> {
    const state = action.state as ActionState;
    // A report for an older attempt, for an action queued for its next one, or for a finished
    // action is history: recorded, applied never.
    if (attempt !== action.attempt || isTerminal(state) || state === 'queued') return;

    switch (report.state) {
      case 'accepted':
      case 'downloading':
      case 'downloaded':
      case 'installing':
      case 'restarting':
        await this.#progress(action, report.state, now);
        return;
      case 'succeeded': {
        const pkg = await this.#package(action.package_id);
        if (report.version === pkg.version) {
          await this.#end(action, {}, now, { state: 'succeeded', errorCode: null });
        }
        return;
      }
      case 'failed':
        await this.#fail(action, 'failed', reasonOf(report), {}, now);
        return;
      case 'rejected':
        await this.#fail(action, 'failed', reasonOf(report), {}, now, true);
        return;
      case 'rolled_back':
        await this.#fail(action, 'rolled_back', reasonOf(report), {}, now);
        return;
      case 'canceled':
        await this.#end(action, {}, now, { state: 'canceled', errorCode: 'device_canceled' });
        return;
    }
  }

  /** The download server saw bytes go to a device: the only progress a TiJOS device shows. */
  async downloadProgress(actionId: number, bytes: number, complete: boolean): Promise<void> {
    if (actionId === 0) return;
    const action = await actionById(this.db, actionId);
    if (!action) return;
    // The byte count, the history row and the move share one group commit (enqueued in order).
    const counted = this.devices.inBatch((trx) =>
      trx
        .updateTable('actions')
        .set((eb) => ({ bytes_served: eb('bytes_served', '+', bytes) }))
        .where('id', '=', actionId)
        .execute(),
    );
    if (action.state === 'queued') return void (await counted); // an older attempt's URL
    const now = this.nowMs();
    if (complete) {
      const recorded = this.devices.recordEvent(
        Number(action.device_row_id),
        actionId,
        'download.complete',
        {},
        now,
      );
      await Promise.all([counted, recorded, this.#progress(action, 'downloaded', now)]);
    } else if (canMove(action.state as ActionState, 'downloading')) {
      await Promise.all([counted, this.#progress(action, 'downloading', now)]);
    } else {
      await counted;
    }
  }

  /**
   * A package as reports need it. A package never changes once uploaded and cannot be deleted
   * while a rollout uses it, so every hello need not read it again.
   */
  async #package(id: number): Promise<PackageView> {
    let pkg = this.#packages.get(id);
    if (!pkg) {
      pkg = await this.packages.get(id);
      this.#packages.set(id, pkg);
    }
    return pkg;
  }

  /** Moves forward; a new step gets its own deadline (ack → download → confirm). */
  async #progress(action: ActionRow, state: ActionState, now: number): Promise<void> {
    if (action.state === 'queued' || !canMove(action.state as ActionState, state)) return;
    const settings = await this.#settings.get(action.rollout_id);
    const moved = await this.#move(action, now, (row) => {
      const from = row.state as ActionState;
      if (!canMove(from, state)) return null;
      const step = stepOf(state);
      const deadlineAt =
        step === stepOf(from) ? undefined : now + stepSeconds(step, settings) * 1000;
      return { state, deadlineAt };
    });
    // Leaving the flight frees a download slot: the engine may admit another device.
    const from = moved?.from;
    if (from && IN_FLIGHT_STATES.includes(from) && !IN_FLIGHT_STATES.includes(state)) {
      this.onFinished();
    }
  }

  /**
   * Moves the action in the next group commit with the device traffic (reports come by the
   * thousand). `action` was read before that commit, so something else may have moved it in
   * between: the download server's accounting, or another report of the same device. Then the
   * change is decided again on the row as it is now, instead of losing the report (a device's
   * "failed" arriving just after the server counted its download complete). `changeFor`
   * returns null when the row no longer allows the change; `then` adds rows in the same commit.
   */
  #move(
    action: ActionRow,
    now: number,
    changeFor: (row: ActionRow) => ActionChange | null,
    then?: (trx: Kysely<Database>, change: ActionChange) => Promise<unknown>,
  ): Promise<{ change: ActionChange; from: ActionState } | null> {
    return this.devices.inBatch(async (trx) => {
      let row = action;
      for (let tries = 0; tries < 3; tries++) {
        const change = changeFor(row);
        if (change === null) return null;
        if (await moveAction(trx, row, change, now)) {
          await then?.(trx, change);
          return { change, from: row.state as ActionState };
        }
        const fresh = await actionById(trx, Number(row.id));
        // Gone, unchanged (the move itself was refused), or a newer attempt: nothing to apply.
        if (!fresh || fresh.state === row.state || fresh.attempt !== action.attempt) return null;
        if (isTerminal(fresh.state as ActionState) || fresh.state === 'queued') return null;
        row = fresh;
      }
      return null;
    });
  }

  /** A failure: retried while the rollout allows (action-retry.ts), else final. */
  async #fail(
    action: ActionRow,
    outcome: ActionState,
    errorCode: string,
    detail: Record<string, unknown>,
    now: number,
    permanent = false,
  ): Promise<void> {
    const settings = await this.#settings.get(action.rollout_id);
    await this.#end(action, detail, now, (row) =>
      failureChange(row, outcome, errorCode, settings, now, permanent),
    );
  }

  async #end(
    action: ActionRow,
    detail: Record<string, unknown>,
    now: number,
    changeFor: ActionChange | ((row: ActionRow) => ActionChange),
  ): Promise<void> {
    const decide = typeof changeFor === 'function' ? changeFor : () => changeFor;
    // The move and, only if it happened, its history row: one piece of work in the group commit.
    const moved = await this.#move(action, now, decide, (trx, change) =>
      trx
        .insertInto('device_events')
        .values({
          device_row_id: Number(action.device_row_id),
          action_id: Number(action.id),
          kind: change.state === 'queued' ? 'retry' : change.state,
          detail: JSON.stringify({
            ...detail,
            ...(change.errorCode && { reason: change.errorCode }),
            ...(change.retryAt && { retryAt: change.retryAt }),
          }),
          at: now,
        })
        .execute(),
    );
    if (!moved) return;
    const { state, errorCode: reason } = moved.change;
    this.log.info({ actionId: action.id, state, reason }, 'action finished');
    this.onFinished();
  }
}

function stepSeconds(step: ReturnType<typeof stepOf>, settings: RolloutSettings): number {
  if (step === 'download') return settings.downloadTimeoutSeconds;
  if (step === 'confirm') return settings.confirmTimeoutSeconds;
  return settings.ackTimeoutSeconds;
}

function reasonOf(report: StatusMessage): string {
  if (report.reason) return report.reason;
  if (report.code !== undefined) return `ota_${report.code}`;
  if (report.http !== undefined) return `http_${report.http}`;
  return 'unspecified';
}
