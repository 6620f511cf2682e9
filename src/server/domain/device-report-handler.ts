import type { Kysely } from 'kysely';
import type { HelloMessage, StatusMessage } from '../../shared/protocol/messages.js';
import type { Logger } from '../log.js';
import type { Database } from '../store/schema.js';
import { ACTIVE_STATES, canMove, isTerminal, type ActionState } from './action-state.js';
import { actionById, moveAction, type ActionRow } from './action-store.js';
import { commandId, parseCommandId, type CommandIssuer } from './command-issuer.js';
import type { DeviceService } from './device-service.js';
import type { PackageService } from './package-service.js';
import type { RolloutSettings } from './rollout-settings.js';

const STARTED: readonly ActionState[] = ['downloading', 'downloaded', 'installing', 'restarting'];

/**
 * Turns what devices say (hello, status) and what the download server sees into action
 * transitions. Success comes only from the device reporting the target version after its
 * restart; a report of the old version after an attempt began is a failure.
 */
export class DeviceReportHandler {
  /** Called after an action reached a terminal state (the engine re-checks its batch). */
  onFinished: () => void = () => undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly devices: DeviceService,
    private readonly packages: PackageService,
    private readonly issuer: CommandIssuer,
    private readonly log: Logger,
    private readonly nowMs: () => number = Date.now,
  ) {}

  async hello(deviceRowId: number, deviceId: string, hello: HelloMessage): Promise<void> {
    const now = this.nowMs();
    await this.devices.recordHello(deviceRowId, hello, now);
    const action = await this.db
      .selectFrom('actions')
      .selectAll()
      .where('device_row_id', '=', deviceRowId)
      .where('state', 'in', ACTIVE_STATES.filter((s) => s !== 'queued'))
      .orderBy('id', 'desc')
      .executeTakeFirst();
    if (!action) return;
    const pkg = await this.packages.get(action.package_id);
    const cmd = commandId(Number(action.id), action.attempt);

    if (hello.version === pkg.version && (hello.app === pkg.app || !hello.app)) {
      await this.#finish(action, 'succeeded', null, { version: hello.version }, now);
      return;
    }
    if (hello.busy === cmd) return;
    if (STARTED.includes(action.state as ActionState)) {
      // Back on the old version after the install began: the attempt failed. Past the download
      // it is a rollback (the new app was installed or tried); before, a download failure.
      const past = action.state !== 'downloading';
      const code = hello.last?.cmd === cmd ? hello.last.code : undefined;
      await this.#finish(
        action,
        past ? 'rolled_back' : 'failed',
        code !== undefined ? `ota_${code}` : past ? 'came_back_on_old_version' : 'download_incomplete',
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
    await this.devices.recordEvent(deviceRowId, Number(action.id), `status.${report.state}`, { ...report }, now);
    if (ref.attempt !== action.attempt || isTerminal(action.state as ActionState)) return;

    switch (report.state) {
      case 'accepted':
      case 'downloading':
      case 'downloaded':
      case 'installing':
      case 'restarting':
        await this.#progress(action, report.state, now);
        return;
      case 'succeeded': {
        const pkg = await this.packages.get(action.package_id);
        if (report.version === pkg.version) {
          await this.#finish(action, 'succeeded', null, {}, now);
        }
        return;
      }
      case 'failed':
      case 'rejected':
        await this.#finish(action, 'failed', reasonOf(report), {}, now);
        return;
      case 'rolled_back':
        await this.#finish(action, 'rolled_back', reasonOf(report), {}, now);
        return;
      case 'canceled':
        await this.#finish(action, 'canceled', 'device_canceled', {}, now);
        return;
    }
  }

  /** The download server saw bytes go to a device: the only progress a TiJOS device shows. */
  async downloadProgress(actionId: number, bytes: number, complete: boolean): Promise<void> {
    if (actionId === 0) return;
    const action = await actionById(this.db, actionId);
    if (!action) return;
    await this.db
      .updateTable('actions')
      .set((eb) => ({ bytes_served: eb('bytes_served', '+', bytes) }))
      .where('id', '=', actionId)
      .execute();
    if (complete) {
      await this.devices.recordEvent(Number(action.device_row_id), actionId, 'download.complete', {});
      await this.#progress(action, 'downloaded', this.nowMs());
    } else if (canMove(action.state as ActionState, 'downloading')) {
      await this.#progress(action, 'downloading', this.nowMs());
    }
  }

  async #progress(action: ActionRow, state: ActionState, now: number): Promise<void> {
    if (!canMove(action.state as ActionState, state)) return;
    const settings = await this.#settings(action.rollout_id);
    // Once the device started working, it has until the confirmation deadline to come back.
    const deadlineAt =
      state === 'accepted' ? action.deadline_at : now + settings.confirmTimeoutSeconds * 1000;
    await moveAction(this.db, action, { state, deadlineAt }, now);
  }

  async #finish(
    action: ActionRow,
    state: ActionState,
    errorCode: string | null,
    detail: Record<string, unknown>,
    now: number,
  ): Promise<void> {
    const moved = await moveAction(this.db, action, { state, errorCode }, now);
    if (!moved) return;
    await this.devices.recordEvent(Number(action.device_row_id), Number(action.id), state, {
      ...detail,
      ...(errorCode && { reason: errorCode }),
    });
    this.log.info({ actionId: action.id, state, reason: errorCode }, 'action finished');
    this.onFinished();
  }

  async #settings(rolloutId: number): Promise<RolloutSettings> {
    const row = await this.db
      .selectFrom('rollouts')
      .select('settings')
      .where('id', '=', rolloutId)
      .executeTakeFirstOrThrow();
    return JSON.parse(row.settings) as RolloutSettings;
  }
}

function reasonOf(report: StatusMessage): string {
  if (report.reason) return report.reason;
  if (report.code !== undefined) return `ota_${report.code}`;
  if (report.http !== undefined) return `http_${report.http}`;
  return 'unspecified';
}
