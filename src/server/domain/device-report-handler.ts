import type { Kysely } from 'kysely';
import type { HelloMessage, StatusMessage } from '../../shared/protocol/messages.js';
import type { Logger } from '../log.js';
import type { Database } from '../store/schema.js';
import { canMove, IN_FLIGHT_STATES, isTerminal, stepOf, type ActionState } from './action-state.js';
import { failureChange } from './action-retry.js';
import type { MoveDecision } from './action-move-batch.js';
import type { ActionChange, ActionRow } from './action-store.js';
import { commandId, parseCommandId, type CommandIssuer } from './command-issuer.js';
import type { DeviceEventRow } from './device-activity-writer.js';
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
 *
 * Each report is decided inside the group commit it is written in (action-move-batch.ts), on
 * the action as the commit finds it: reports come by the thousand, and reading each one's
 * action on its own would cost more than all the writes of a batch.
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
    // The device row and what the hello means for its action share one group commit.
    const recorded = this.devices.recordHello(deviceRowId, hello, this.nowMs());
    const outcome = this.devices.moveInBatch({
      target: { activeOfDevice: deviceRowId },
      decide: (rows, now, trx) => this.#decideHello(rows, hello, now, trx),
    });
    await settle(recorded, outcome, (o) => this.#afterCommit(o, deviceId, deviceRowId));
  }

  async #decideHello(
    rows: readonly ActionRow[],
    hello: HelloMessage,
    now: number,
    trx: Kysely<Database>,
  ): Promise<MoveDecision<Outcome>> {
    const action = rows.find((a) => a.state !== 'queued') ?? rows[0];
    if (!action) return NOTHING;
    const pkg = await this.#package(action.package_id, trx);
    if (!pkg) return endDecision(action, PACKAGE_DELETED, { version: hello.version }, now);

    if (hello.version === pkg.version && (hello.app === pkg.app || !hello.app)) {
      return endDecision(action, SUCCEEDED, { version: hello.version }, now);
    }
    // Online now: the engine may send it its command, once the database says so.
    if (action.state === 'queued') return { result: { wake: true } };
    const cmd = commandId(Number(action.id), action.attempt);
    if (hello.busy === cmd) return NOTHING;
    if (STARTED.includes(action.state as ActionState)) {
      // Back on the old version after the install began: the attempt failed. Past the download
      // it is a rollback (the new app was installed or tried); before, a download failure.
      const past = action.state !== 'downloading';
      const last = hello.last?.cmd === cmd ? hello.last : undefined;
      const code = last?.code;
      // The hello comes first after a restart: the reason its status report will give (the
      // agent's `app_crashed`) rides in `last`, or the action would end on the bare code.
      const reason =
        last?.reason ??
        (code !== undefined
          ? `ota_${code}`
          : past
            ? 'came_back_on_old_version'
            : 'download_incomplete');
      const settings = await this.#settings.get(action.rollout_id, trx);
      const change = failureChange(action, past ? 'rolled_back' : 'failed', reason, settings, now);
      return endDecision(action, change, { version: hello.version, code }, now);
    }
    // Sent but not started: the device (re)connected, so (re)send the same command.
    return { result: { resend: { action, pkg } } };
  }

  async status(deviceRowId: number, report: StatusMessage): Promise<void> {
    const ref = parseCommandId(report.cmd);
    const outcome = ref
      ? await this.devices.moveInBatch({
          target: { actionId: ref.actionId },
          decide: (rows, now, trx) =>
            this.#decideStatus(rows[0], deviceRowId, ref.attempt, report, now, trx),
        })
      : UNKNOWN;
    if (outcome.unknown) {
      this.log.info({ deviceRowId, cmd: report.cmd }, 'status for an unknown command dropped');
    }
    await this.#afterCommit(outcome);
  }

  async #decideStatus(
    action: ActionRow | undefined,
    deviceRowId: number,
    attempt: number,
    report: StatusMessage,
    now: number,
    trx: Kysely<Database>,
  ): Promise<MoveDecision<Outcome>> {
    if (!action || Number(action.device_row_id) !== deviceRowId) return { result: UNKNOWN };
    // The report goes into the history whatever it changes.
    const history = [historyRow(action, `status.${report.state}`, { ...report }, now)];
    const state = action.state as ActionState;
    // A report for an older attempt, for an action queued for its next one, or for a finished
    // action is history: recorded, applied never.
    if (attempt !== action.attempt || isTerminal(state) || state === 'queued') {
      return { events: history, result: {} };
    }
    const settings = () => this.#settings.get(action.rollout_id, trx);
    switch (report.state) {
      case 'accepted':
      case 'downloading':
      case 'downloaded':
      case 'installing':
      case 'restarting':
        return progressDecision(action, report.state, await settings(), now, history);
      case 'succeeded': {
        const pkg = await this.#package(action.package_id, trx);
        if (!pkg) return endDecision(action, PACKAGE_DELETED, {}, now, history);
        if (report.version !== pkg.version) return { events: history, result: {} };
        return endDecision(action, SUCCEEDED, {}, now, history);
      }
      case 'failed':
      case 'rejected':
      case 'rolled_back': {
        const outcome = report.state === 'rolled_back' ? 'rolled_back' : 'failed';
        const permanent = report.state === 'rejected';
        const change = failureChange(
          action,
          outcome,
          reasonOf(report),
          await settings(),
          now,
          permanent,
        );
        return endDecision(action, change, {}, now, history);
      }
      case 'canceled':
        return endDecision(action, CANCELED, {}, now, history);
    }
  }

  /** The download server saw bytes go to a device: the only progress a TiJOS device shows. */
  async downloadProgress(actionId: number, bytes: number, complete: boolean): Promise<void> {
    if (actionId === 0) return;
    // The byte count, the history row and the move share one group commit.
    const counted = this.devices.recordServed(actionId, bytes);
    const outcome = this.devices.moveInBatch({
      target: { actionId },
      decide: async (rows, now, trx): Promise<MoveDecision<Outcome>> => {
        const action = rows[0];
        // Gone, or an older attempt's URL: the bytes are counted, nothing moves.
        if (!action || action.state === 'queued') return NOTHING;
        const settings = () => this.#settings.get(action.rollout_id, trx);
        if (complete) {
          const history = [historyRow(action, 'download.complete', {}, now)];
          return progressDecision(action, 'downloaded', await settings(), now, history);
        }
        if (!canMove(action.state as ActionState, 'downloading')) return NOTHING;
        return progressDecision(action, 'downloading', await settings(), now, []);
      },
    });
    await settle(counted, outcome, (o) => this.#afterCommit(o));
  }

  /** What a committed decision asks of the engine and the device. */
  async #afterCommit(outcome: Outcome, deviceId?: string, deviceRowId?: number): Promise<void> {
    if (outcome.ended) {
      const { actionId, change } = outcome.ended;
      this.log.info({ actionId, state: change.state, reason: change.errorCode }, 'action finished');
    }
    if (outcome.ended || outcome.freed || outcome.wake) this.onFinished();
    if (outcome.resend && deviceId !== undefined && deviceRowId !== undefined) {
      const { action, pkg } = outcome.resend;
      await this.issuer.sendInstall(
        { actionId: Number(action.id), attempt: action.attempt, deviceId, deviceRowId },
        pkg,
      );
    }
  }

  /**
   * A package as reports need it. A package never changes once uploaded and cannot be deleted
   * while a rollout runs or devices still work on it, so every hello need not read it again.
   * Null only if its row was removed some other way (by hand, or by an older server version).
   */
  async #package(id: number, trx: Kysely<Database>): Promise<PackageView | null> {
    const cached = this.#packages.get(id);
    if (cached) return cached;
    const pkg = await this.packages.find(id, trx);
    if (pkg) this.#packages.set(id, pkg);
    return pkg;
  }
}

/**
 * What a decision leaves to do once its batch is committed: log and wake the engine (an action
 * ended, left the download flight, or its device came online), or send the command again.
 */
interface Outcome {
  readonly unknown?: boolean;
  readonly ended?: { readonly actionId: number; readonly change: ActionChange };
  readonly freed?: boolean;
  readonly wake?: boolean;
  readonly resend?: { readonly action: ActionRow; readonly pkg: PackageView };
}

const UNKNOWN: Outcome = { unknown: true };
const NOTHING: MoveDecision<Outcome> = { result: {} };
const SUCCEEDED: ActionChange = { state: 'succeeded', errorCode: null };
const CANCELED: ActionChange = { state: 'canceled', errorCode: 'device_canceled' };
/** Nothing left to tell success by: the package was deleted under the action. */
const PACKAGE_DELETED: ActionChange = { state: 'canceled', errorCode: 'package_deleted' };

/** Moves forward; a new step gets its own deadline (ack → download → confirm). */
function progressDecision(
  action: ActionRow,
  state: ActionState,
  settings: RolloutSettings,
  now: number,
  events: readonly DeviceEventRow[],
): MoveDecision<Outcome> {
  const from = action.state as ActionState;
  if (from === 'queued' || !canMove(from, state)) return { events, result: {} };
  const step = stepOf(state);
  const deadlineAt = step === stepOf(from) ? undefined : now + stepSeconds(step, settings) * 1000;
  // Leaving the flight frees a download slot: the engine may admit another device.
  const freed = IN_FLIGHT_STATES.includes(from) && !IN_FLIGHT_STATES.includes(state);
  return { move: { action, change: { state, deadlineAt } }, events, result: { freed } };
}

/** An end (or a failure queued for a retry), with its own history row after `events`. */
function endDecision(
  action: ActionRow,
  change: ActionChange,
  detail: Record<string, unknown>,
  now: number,
  events: readonly DeviceEventRow[] = [],
): MoveDecision<Outcome> {
  if (!canMove(action.state as ActionState, change.state)) return { events, result: {} };
  const kind = change.state === 'queued' ? 'retry' : change.state;
  const ended = historyRow(
    action,
    kind,
    {
      ...detail,
      ...(change.errorCode && { reason: change.errorCode }),
      ...(change.retryAt && { retryAt: change.retryAt }),
    },
    now,
  );
  return {
    move: { action, change },
    events: [...events, ended],
    result: { ended: { actionId: Number(action.id), change } },
  };
}

function historyRow(
  action: ActionRow,
  kind: string,
  detail: Record<string, unknown>,
  now: number,
): DeviceEventRow {
  return {
    device_row_id: Number(action.device_row_id),
    action_id: Number(action.id),
    kind,
    detail: JSON.stringify(detail),
    at: now,
  };
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

/**
 * Waits for a report's two items of the group commit. A decision that committed is acted on
 * even when the other item failed (the batch then commits its items one by one): the action
 * moved, so the engine, the log and the device must follow it. Then the first failure is
 * thrown for the caller to log.
 */
async function settle(
  other: Promise<unknown>,
  outcome: Promise<Outcome>,
  afterCommit: (outcome: Outcome) => Promise<void>,
): Promise<void> {
  const [otherResult, decided] = await Promise.allSettled([other, outcome]);
  if (decided.status === 'fulfilled') await afterCommit(decided.value);
  if (otherResult.status === 'rejected') throw otherResult.reason;
  if (decided.status === 'rejected') throw decided.reason;
}
