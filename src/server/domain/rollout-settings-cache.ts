import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { TRANSFER_SHARE, PROFILE_DEADLINE_SECONDS } from './pacing-plan.js';
import type { RolloutPlan } from './rollout-plan.js';
import { storedSettings, type RolloutSettings } from './rollout-settings.js';

/** What never changes once a rollout exists, read once per rollout and process. */
export interface RolloutFacts {
  readonly settings: RolloutSettings;
  /** Bandwidth each of its downloads needs to finish in time, bytes/s (plan → pacing). */
  readonly bytesPerSecondPerDownload: number;
}

/**
 * Rollout settings and pacing by rollout id. They never change after a rollout is created, so
 * reports, deadlines and passes need not read them again.
 */
export class RolloutSettingsCache {
  readonly #facts = new Map<number, RolloutFacts>();

  constructor(private readonly db: Kysely<Database>) {}

  /** `db`: the transaction to read in when not cached (a group commit holds the connection). */
  async get(rolloutId: number, db = this.db): Promise<RolloutSettings> {
    return (await this.facts(rolloutId, db)).settings;
  }

  async facts(rolloutId: number, db = this.db): Promise<RolloutFacts> {
    const cached = this.#facts.get(rolloutId);
    if (cached) return cached;
    const row = await db
      .selectFrom('rollouts')
      .innerJoin('packages', 'packages.id', 'rollouts.package_id')
      .select(['rollouts.settings', 'rollouts.plan', 'packages.size'])
      .where('rollouts.id', '=', rolloutId)
      .executeTakeFirst();
    // A rollout whose package was deleted has nothing in flight worth pacing.
    const facts: RolloutFacts = row
      ? { settings: storedSettings(row.settings), bytesPerSecondPerDownload: rateOf(row) }
      : { settings: storedSettings('{}'), bytesPerSecondPerDownload: 0 };
    this.#facts.set(rolloutId, facts);
    return facts;
  }
}

function rateOf(row: { plan: string | null; size: number }): number {
  if (row.plan) return (JSON.parse(row.plan) as RolloutPlan).pacing.bytesPerSecondPerDownload;
  // Rollouts from before plans were stored: assume the strictest profile.
  return Number(row.size) / (PROFILE_DEADLINE_SECONDS.tijos * TRANSFER_SHARE);
}
