import type { Kysely } from 'kysely';
import type { Logger } from '../log.js';
import type { Database } from '../store/schema.js';
import type { CommandIssuer } from './command-issuer.js';
import type { PackageService } from './package-service.js';

/** A lease lasts this long without renewal (docs/deploy.md: "Replicas"). */
export const LEASE_MS = 10_000;
/** The holder renews this often, so two renewals may fail before the lease is lost. */
export const RENEW_EVERY_MS = 3_000;

export interface RolloutLeaseOptions {
  readonly leaseMs?: number;
  readonly renewEveryMs?: number;
  readonly nowMs?: () => number;
}

/**
 * Which running rollouts this replica advances. Each rollout row carries a lease
 * (`lease_owner`, `lease_expires_at`); a replica takes it with one conditional UPDATE when it
 * is free, expired or already its own, so at most one replica holds it at a time, on SQLite and
 * PostgreSQL alike. The holder renews it every RENEW_EVERY_MS; when the holder dies, another
 * replica takes it over once LEASE_MS has passed since the last renewal.
 *
 * The lease keeps the work in one place; it is not what makes the work safe. A holder that
 * stalls past its lease may finish a pass beside the new holder, and every step it takes is a
 * conditional update (queued → sent, batch n → n + 1) that only one of them wins. Replica
 * clocks must agree to within LEASE_MS - RENEW_EVERY_MS (NTP keeps them far closer).
 */
export class RolloutLease {
  /** Rollouts held, with the local time of their last successful take or renewal. */
  readonly #renewedAt = new Map<number, number>();
  readonly #leaseMs: number;
  readonly #renewEveryMs: number;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Kysely<Database>,
    /** This replica's name (`--replica-id`); two live replicas must never share one. */
    readonly owner: string,
    private readonly issuer: Pick<CommandIssuer, 'sendInstall'>,
    private readonly packages: Pick<PackageService, 'get'>,
    private readonly log: Logger,
    options: RolloutLeaseOptions = {},
  ) {
    this.#leaseMs = options.leaseMs ?? LEASE_MS;
    this.#renewEveryMs = options.renewEveryMs ?? RENEW_EVERY_MS;
    this.#now = options.nowMs ?? Date.now;
  }

  /** The rollouts this replica holds now. */
  get held(): number[] {
    return [...this.#renewedAt.keys()];
  }

  /**
   * Whether this replica may advance `rolloutId` now: takes the lease when it is free or has
   * expired, renews it when it is ours. A lease renewed within the last RENEW_EVERY_MS is
   * trusted without asking the database, so a pass per second costs no write per rollout.
   */
  async hold(rolloutId: number): Promise<boolean> {
    const renewed = this.#renewedAt.get(rolloutId);
    if (renewed !== undefined && this.#now() - renewed < this.#renewEveryMs) return true;
    return this.#take(rolloutId);
  }

  /** Gives every lease back (a clean shutdown): another replica takes over at once. */
  async release(): Promise<void> {
    this.#stopTimer();
    this.#renewedAt.clear();
    await this.db
      .updateTable('rollouts')
      .set({ lease_owner: null, lease_expires_at: null })
      .where('lease_owner', '=', this.owner)
      .execute();
  }

  async #take(rolloutId: number): Promise<boolean> {
    const now = this.#now();
    const result = await this.db
      .updateTable('rollouts')
      .set({ lease_owner: this.owner, lease_expires_at: now + this.#leaseMs })
      .where('id', '=', rolloutId)
      .where('status', '=', 'running')
      .where((eb) =>
        eb.or([
          eb('lease_owner', 'is', null),
          eb('lease_owner', '=', this.owner),
          eb('lease_expires_at', '<', now),
        ]),
      )
      .executeTakeFirst();

    if (Number(result.numUpdatedRows) !== 1) {
      if (this.#renewedAt.delete(rolloutId)) {
        this.log.info({ rolloutId, replica: this.owner }, 'rollout lease lost');
      }
      return false;
    }
    const gained = !this.#renewedAt.has(rolloutId);
    this.#renewedAt.set(rolloutId, now);
    this.#startTimer();
    if (gained) {
      // A failed re-send is not a lost lease: devices still get the command on their next hello.
      await this.#onGained(rolloutId).catch((error: unknown) =>
        this.log.warn({ err: error, rolloutId }, 're-sending commands after taking a lease failed'),
      );
    }
    return true;
  }

  /**
   * A replica that gains a rollout cannot know which commands the previous holder published
   * before it died: an action is marked `sent` just before its command goes out. So it sends
   * every `sent` command again, with the same id (`a<actionId>.<attempt>`). A device executes
   * an id once and ignores a command for the version it runs (docs/protocol.md), and a report
   * for it moves the action forward once (conditional updates), so a repeat changes nothing.
   */
  async #onGained(rolloutId: number): Promise<void> {
    const rollout = await this.db
      .selectFrom('rollouts')
      .select('package_id')
      .where('id', '=', rolloutId)
      .executeTakeFirst();
    const sent = await this.db
      .selectFrom('actions')
      .innerJoin('devices', 'devices.id', 'actions.device_row_id')
      .select(['actions.id', 'actions.attempt', 'actions.device_row_id', 'devices.device_id'])
      .where('actions.rollout_id', '=', rolloutId)
      .where('actions.state', '=', 'sent')
      .execute();
    this.log.info({ rolloutId, replica: this.owner, resent: sent.length }, 'rollout lease taken');
    if (!rollout || sent.length === 0) return;

    const pkg = await this.packages.get(rollout.package_id);
    for (const action of sent) {
      const target = {
        actionId: Number(action.id),
        attempt: action.attempt,
        deviceId: action.device_id,
        deviceRowId: Number(action.device_row_id),
      };
      await this.issuer.sendInstall(target, pkg);
    }
  }

  /** Renews held leases on a timer of their own, so a long pass does not let them lapse. */
  #startTimer(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.#renewAll(), this.#renewEveryMs);
    this.#timer.unref();
  }

  #stopTimer(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  async #renewAll(): Promise<void> {
    for (const rolloutId of this.held) {
      await this.#take(rolloutId).catch((error: unknown) =>
        this.log.warn({ err: error, rolloutId }, 'rollout lease renewal failed'),
      );
    }
    if (this.#renewedAt.size === 0) this.#stopTimer();
  }
}
