import { sql, type Kysely } from 'kysely';
import type { Logger } from '../log.js';
import type { Database } from '../store/schema.js';
import { IN_FLIGHT_STATES, WORKING_STATES } from './action-state.js';
import { ID_CHUNK } from './action-bulk.js';
import { recordActionEvents, type ActionEvent } from './action-events.js';
import type { CommandIssuer } from './command-issuer.js';
import type { PackageService, PackageView } from './package-service.js';
import type { RolloutSettings } from './rollout-settings.js';
import type { PacingLimits } from './rollout-plan.js';

/** Commands marked sent and published at a time (see admit). */
const SEND_CHUNK = 500;

/** A running rollout as admission sees it. */
export interface AdmittedRollout {
  readonly id: number;
  readonly packageId: number;
  readonly currentBatch: number;
  readonly settings: RolloutSettings;
  /** Bandwidth each of its downloads needs to finish in time, bytes/s (its plan's pacing). */
  readonly bytesPerSecondPerDownload: number;
}

/**
 * Downloads in flight across every rollout, running or not (a paused rollout's devices keep
 * downloading): what pacing has already spent. Read once per engine pass and updated as
 * admission sends, so two rollouts in one pass share one budget.
 */
export class InFlight {
  constructor(
    readonly byRollout: Map<number, number>,
    /** Bandwidth the flights use, bytes/s. */
    public bytesPerSecond: number,
  ) {}

  get total(): number {
    let n = 0;
    for (const v of this.byRollout.values()) n += v;
    return n;
  }

  add(rolloutId: number, count: number, rate: number): void {
    this.byRollout.set(rolloutId, (this.byRollout.get(rolloutId) ?? 0) + count);
    this.bytesPerSecond += count * rate;
  }
}

/**
 * Sends the commands of a rollout's started batches to devices, never more than pacing
 * admits: each download in flight reserves the bandwidth it needs to finish within its
 * device's deadline, and no more fit than the server's bandwidth and download cap allow.
 * Only online devices are sent to (an offline one gets the newest command when it says
 * hello), and only devices not already working on another command.
 */
export class RolloutAdmission {
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly packages: Pick<PackageService, 'get'>,
    private readonly issuer: Pick<CommandIssuer, 'buildInstall' | 'publish'>,
    private readonly limits: PacingLimits,
    private readonly log: Logger,
  ) {}

  /** What is in flight now, with each rollout's per-download rate from `rateOf`. */
  async inFlight(rateOf: (rolloutId: number) => Promise<number>): Promise<InFlight> {
    const rows = await this.db
      .selectFrom('actions')
      .select(['rollout_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('state', 'in', [...IN_FLIGHT_STATES])
      .groupBy('rollout_id')
      .execute();
    const flights = new InFlight(new Map(), 0);
    for (const r of rows)
      flights.add(Number(r.rollout_id), Number(r.n), await rateOf(Number(r.rollout_id)));
    return flights;
  }

  /** How many more devices of `rollout` may start downloading now. */
  freeSlots(rollout: AdmittedRollout, flights: InFlight): number {
    const rate = Math.max(rollout.bytesPerSecondPerDownload, 1e-9);
    const bandwidth = this.limits.bandwidthBytesPerSecond;
    const own = flights.byRollout.get(rollout.id) ?? 0;
    const cap = Math.min(
      Math.max(Math.floor(bandwidth / rate), 1),
      rollout.settings.maxConcurrentDownloads || Infinity,
      this.limits.maxDownloads || Infinity,
    );
    // One download always fits when nothing else is in flight, so a package too large for
    // the deadline still goes out, one device at a time (the plan warned about it).
    const spare = Math.floor((bandwidth - flights.bytesPerSecond) / rate);
    const byBandwidth = flights.total === 0 ? Math.max(spare, 1) : spare;
    const byServer = (this.limits.maxDownloads || Infinity) - flights.total;
    return Math.max(0, Math.min(cap - own, byBandwidth, byServer));
  }

  /** Sends up to the free slots' worth of queued actions; returns how many were sent. */
  async admit(rollout: AdmittedRollout, flights: InFlight, now: number): Promise<number> {
    const slots = this.freeSlots(rollout, flights);
    if (slots <= 0) return 0;
    const candidates = await this.#candidates(rollout, Math.min(slots, 10_000), now);
    if (candidates.length === 0) return 0;

    const jitterMs = rollout.settings.jitterSeconds * 1000;
    const deadlineAt = now + jitterMs + rollout.settings.ackTimeoutSeconds * 1000;
    const pkg = await this.packages.get(rollout.packageId);
    const events: ActionEvent[] = [];
    const publishes: Promise<void>[] = [];
    let total = 0;
    // Chunk by chunk: the first commands are on their way (the broker forwarding them on its
    // own core) while the next chunk is marked sent.
    try {
      for (let i = 0; i < candidates.length; i += SEND_CHUNK) {
        const chunk = candidates.slice(i, i + SEND_CHUNK);
        const sent = await this.#markSent(
          chunk.map((c) => c.id),
          now,
          deadlineAt,
        );
        flights.add(rollout.id, sent.size, rollout.bytesPerSecondPerDownload);
        total += sent.size;
        for (const c of chunk) {
          const attempt = sent.get(c.id);
          if (attempt === undefined) continue; // another pass or replica sent it first
          events.push(this.#send(c, attempt, pkg, jitterMs, publishes));
        }
      }
    } finally {
      // Commands first, history after: the devices need not wait for the event rows. What went
      // out is recorded even when marking a later chunk failed.
      await Promise.all(publishes);
      await recordActionEvents(this.db, events, now);
    }
    return total;
  }

  /**
   * Builds one device's command and publishes it, at once (its promise joins `publishes`) or
   * after its jitter; returns the history row that says it went out.
   */
  #send(
    c: { id: number; deviceId: string; deviceRowId: number },
    attempt: number,
    pkg: PackageView,
    jitterMs: number,
    publishes: Promise<void>[],
  ): ActionEvent {
    const target = { actionId: c.id, attempt, deviceId: c.deviceId, deviceRowId: c.deviceRowId };
    const command = this.issuer.buildInstall(target, pkg);
    const publish = () =>
      this.issuer.publish(c.deviceId, command).catch((error: unknown) => {
        // The device still gets it: on its next hello, or as a retry after the ack deadline.
        this.log.warn(
          { err: error, deviceId: c.deviceId, cmd: command.id },
          'publishing a command failed',
        );
      });
    if (jitterMs > 0) this.#later(publish, Math.random() * jitterMs);
    else publishes.push(publish());
    return {
      deviceRowId: c.deviceRowId,
      actionId: c.id,
      kind: 'command',
      detail: { cmd: command.id, version: pkg.version, url: command.url },
    };
  }

  /** Drops jittered sends not yet published; their devices get them on their next hello. */
  stop(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  async #candidates(rollout: AdmittedRollout, limit: number, now: number) {
    const rows = await this.db
      .selectFrom('actions as a')
      .innerJoin('devices as d', 'd.id', 'a.device_row_id')
      .select(['a.id', 'a.device_row_id', 'd.device_id'])
      .where('a.rollout_id', '=', rollout.id)
      .where('a.state', '=', 'queued')
      .where('a.batch', '<=', rollout.currentBatch)
      .where((eb) => eb.or([eb('a.retry_at', 'is', null), eb('a.retry_at', '<=', now)]))
      .where('d.online', '=', 1)
      .where('d.revoked_at', 'is', null)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('actions as o')
              .select('o.id')
              .whereRef('o.device_row_id', '=', 'a.device_row_id')
              .where('o.state', 'in', [...WORKING_STATES]),
          ),
        ),
      )
      .orderBy('a.batch')
      .orderBy('a.id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      id: Number(r.id),
      deviceRowId: Number(r.device_row_id),
      deviceId: r.device_id,
    }));
  }

  /**
   * queued → sent for many actions at once; each attempt number goes up by one, which gives
   * the command its new id. Conditional on `queued`: returns action id → attempt for the rows
   * this call moved, so a command is never sent for an action another pass already sent.
   */
  async #markSent(ids: number[], now: number, deadlineAt: number): Promise<Map<number, number>> {
    const sent = new Map<number, number>();
    for (let i = 0; i < ids.length; i += ID_CHUNK) {
      const rows = await this.db
        .updateTable('actions')
        .set({
          state: 'sent',
          attempt: sql<number>`attempt + 1`,
          command_id: sql<string>`'a' || cast(id as text) || '.' || cast(attempt + 1 as text)`,
          sent_at: now,
          deadline_at: deadlineAt,
          retry_at: null,
          updated_at: now,
        })
        .where('id', 'in', ids.slice(i, i + ID_CHUNK))
        .where('state', '=', 'queued')
        .returning(['id', 'attempt'])
        .execute();
      for (const r of rows) sent.set(Number(r.id), r.attempt);
    }
    return sent;
  }

  #later(task: () => Promise<void>, delayMs: number): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void task();
    }, delayMs);
    this.#timers.add(timer);
  }
}
