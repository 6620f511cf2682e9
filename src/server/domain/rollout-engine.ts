import type { Kysely, Updateable } from 'kysely';
import type { Logger } from '../log.js';
import type { Database, RolloutsTable } from '../store/schema.js';
import { sweepDeadlines } from './action-deadlines.js';
import { AuditLog, SYSTEM_ACTOR } from './audit-log.js';
import { batchStateCounts } from './batch-state-counts.js';
import type { CommandIssuer } from './command-issuer.js';
import type { DeviceService } from './device-service.js';
import type { PackageService } from './package-service.js';
import { RolloutAdmission, type AdmittedRollout, type InFlight } from './rollout-admission.js';
import type { RolloutLease } from './rollout-lease.js';
import { DEFAULT_LIMITS, type PacingLimits } from './rollout-plan.js';
import { RolloutSettingsCache } from './rollout-settings-cache.js';
import { decide } from './rollout-stop-rules.js';

export interface RolloutEngineOptions {
  /** Safety-net pass interval, ms (passes also run on every event that matters). */
  readonly intervalMs?: number;
  readonly nowMs?: () => number;
  /** The server's bandwidth and download cap (config `--bandwidth`, `--max-downloads`). */
  readonly limits?: PacingLimits;
}

/**
 * Least time between the end of one pass and the start of the next while events keep coming,
 * ms. A pass reads each running rollout's counts (index scans of its actions), so passes run
 * back to back under a storm of reports would take the database and the event loop from the
 * reports themselves: at 10,000 devices that is most of the server's CPU. A freed download
 * slot or a finished batch waits at most this long (or PASS_GAP_FACTOR times the last pass).
 */
const MIN_GAP_MS = 100;
/** The gap is also at least this many times the last pass's duration: passes take ≤ 1/(1+k). */
const PASS_GAP_FACTOR = 4;
/** But never more than this: deadlines and soak ends are judged on passes, to the second. */
const MAX_GAP_MS = 2000;

interface RunningRollout extends AdmittedRollout {
  readonly batchCount: number;
  readonly approvedBatch: number;
  readonly errorAck: Record<string, number>;
  readonly soakUntil: number | null;
}

/**
 * Advances running rollouts: times out silent devices, applies the stop rules, moves to the
 * next batch, and sends commands as pacing admits them. All state lives in the database, so
 * a restarted server (even after kill -9) continues where the last one stopped; every step is
 * a conditional update, so a pass that races another replica's does nothing twice.
 */
export class RolloutEngine {
  /** Which rollouts this replica may advance (rollout-lease.ts); null advances every one. */
  lease: RolloutLease | null = null;
  /** Settings and pacing per rollout, shared with the report handler. */
  readonly facts: RolloutSettingsCache;
  readonly #admission: RolloutAdmission;
  readonly #audit: AuditLog;
  readonly #intervalMs: number;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  /** A pass is scheduled for when the gap after the last one has passed. */
  #scheduled: NodeJS.Timeout | null = null;
  /** When the last pass ended (Date.now()) and how long it took (ms): the gap is paced on them. */
  #lastEndMs = 0;
  #lastPassMs = 0;
  #again = false;
  #stopped = false;

  constructor(
    private readonly db: Kysely<Database>,
    packages: PackageService,
    _devices: DeviceService,
    issuer: CommandIssuer,
    private readonly log: Logger,
    options: RolloutEngineOptions = {},
  ) {
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#now = options.nowMs ?? Date.now;
    this.facts = new RolloutSettingsCache(db);
    this.#admission = new RolloutAdmission(
      db,
      packages,
      issuer,
      options.limits ?? DEFAULT_LIMITS,
      log,
    );
    this.#audit = new AuditLog(db);
  }

  start(): void {
    this.#stopped = false;
    this.#timer = setInterval(() => this.kick(), this.#intervalMs);
    this.kick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#scheduled) clearTimeout(this.#scheduled);
    this.#admission.stop();
    await this.#running;
    await this.lease?.release();
  }

  /**
   * Asks for a pass soon. Passes never overlap; kicks during a pass, or within the gap after
   * one, are merged into one pass at the end of the gap.
   */
  kick(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    if (this.#scheduled) return;
    const gap = Math.min(MAX_GAP_MS, Math.max(MIN_GAP_MS, PASS_GAP_FACTOR * this.#lastPassMs));
    const wait = this.#lastEndMs + gap - Date.now();
    if (wait > 0) {
      this.#scheduled = setTimeout(() => {
        this.#scheduled = null;
        this.kick();
      }, wait);
      return;
    }
    const started = Date.now();
    this.#running = this.tick()
      .catch((error: unknown) => this.log.error({ err: error }, 'rollout pass failed'))
      .finally(() => {
        this.#running = null;
        this.#lastEndMs = Date.now();
        this.#lastPassMs = this.#lastEndMs - started;
        if (!this.#again) return;
        this.#again = false;
        this.kick();
      });
  }

  /** One pass over every running rollout. */
  async tick(): Promise<void> {
    const timedOut = await sweepDeadlines(this.db, this.facts, this.#now());
    if (timedOut > 0) this.log.info({ actions: timedOut }, 'deadlines passed');
    const rollouts = await this.db
      .selectFrom('rollouts')
      .select(['id', 'package_id', 'current_batch', 'batch_count', 'approved_batch'])
      .select(['error_ack', 'next_step_at'])
      .where('status', '=', 'running')
      .execute();
    const flights = await this.#admission.inFlight(
      async (id) => (await this.facts.facts(id)).bytesPerSecondPerDownload,
    );
    for (const rollout of rollouts) {
      if (this.#stopped) return;
      if (this.lease && !(await this.lease.hold(Number(rollout.id)))) continue;
      const id = Number(rollout.id);
      const facts = await this.facts.facts(id);
      await this.#advance(
        {
          id,
          packageId: rollout.package_id,
          currentBatch: rollout.current_batch,
          batchCount: rollout.batch_count,
          settings: facts.settings,
          bytesPerSecondPerDownload: facts.bytesPerSecondPerDownload,
          approvedBatch: rollout.approved_batch,
          errorAck: JSON.parse(rollout.error_ack) as Record<string, number>,
          soakUntil: rollout.next_step_at === null ? null : Number(rollout.next_step_at),
        },
        flights,
      );
    }
  }

  async #advance(rollout: RunningRollout, flights: InFlight): Promise<void> {
    const now = this.#now();
    const batches = await batchStateCounts(this.db, rollout.id);
    const decision = decide({ ...rollout, batches, now }, rollout.settings);
    let current = rollout;

    switch (decision.kind) {
      case 'pause':
        await this.#pause(rollout, decision.reason);
        return;
      case 'complete':
        await this.#finish(rollout, now);
        return;
      case 'soak':
        await this.#update(rollout, { next_step_at: decision.until, updated_at: now });
        this.log.info({ rolloutId: rollout.id, batch: rollout.currentBatch }, 'batch soaking');
        break;
      case 'advance':
        if (await this.#nextBatch(rollout, now)) {
          current = { ...rollout, currentBatch: rollout.currentBatch + 1, soakUntil: null };
          this.#again = true; // the new batch may already decide something (all canceled)
        }
        break;
      case 'wait':
        break;
    }
    await this.#admission.admit(current, flights, now);
  }

  /** Pauses once however many rules fire: the update is conditional on `running`. */
  async #pause(rollout: RunningRollout, reason: string): Promise<void> {
    const now = this.#now();
    const paused = await this.#update(rollout, {
      status: 'paused',
      pause_reason: reason,
      updated_at: now,
    });
    if (!paused) return;
    await this.#audit.record(SYSTEM_ACTOR, 'rollout.pause', `rollout:${rollout.id}`, { reason });
    this.log.warn({ rolloutId: rollout.id, batch: rollout.currentBatch, reason }, 'rollout paused');
  }

  async #finish(rollout: RunningRollout, now: number): Promise<void> {
    const done = await this.#update(rollout, {
      status: 'completed',
      finished_at: now,
      updated_at: now,
    });
    if (done) this.log.info({ rolloutId: rollout.id }, 'rollout completed');
  }

  /**
   * Starts the next batch. Its queued actions get their admission deadline: a device that
   * stays offline that long after its batch started times out.
   */
  async #nextBatch(rollout: RunningRollout, now: number): Promise<boolean> {
    const next = rollout.currentBatch + 1;
    const moved = await this.#update(rollout, {
      current_batch: next,
      batch_started_at: now,
      next_step_at: null,
      updated_at: now,
    });
    if (!moved) return false;
    await this.db
      .updateTable('actions')
      .set({ deadline_at: now + rollout.settings.ackTimeoutSeconds * 1000 })
      .where('rollout_id', '=', rollout.id)
      .where('batch', '=', next)
      .where('state', '=', 'queued')
      .execute();
    this.log.info({ rolloutId: rollout.id, batch: next }, 'batch started');
    return true;
  }

  /** Updates a rollout only if it is still running at the batch this pass read. */
  async #update(rollout: RunningRollout, set: Updateable<RolloutsTable>): Promise<boolean> {
    const result = await this.db
      .updateTable('rollouts')
      .set(set)
      .where('id', '=', rollout.id)
      .where('status', '=', 'running')
      .where('current_batch', '=', rollout.currentBatch)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}
