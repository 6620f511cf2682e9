import type { Kysely, Selectable } from 'kysely';
import { TiotaError } from '../errors.js';
import type { Database, DevicesTable } from '../store/schema.js';

/** Which devices a rollout is for; resolved once, when the rollout is created. */
export interface RolloutTarget {
  /** Explicit device ids. */
  readonly devices?: string[];
  /** Devices carrying any of these tags. */
  readonly tags?: string[];
  /** Devices running this app name… */
  readonly app?: string;
  /** …at a version below this one (compared as dotted numbers, see compareVersions). */
  readonly versionBelow?: string;
}

export function parseTarget(input: unknown): RolloutTarget {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new TiotaError(
      'validation_failed',
      'target must be an object: {devices?, tags?, app?, versionBelow?}',
    );
  }
  const t = input as Record<string, unknown>;
  const list = (key: string): string[] | undefined => {
    if (t[key] === undefined) return undefined;
    if (!Array.isArray(t[key]) || !(t[key] as unknown[]).every((x) => typeof x === 'string')) {
      throw new TiotaError('validation_failed', `target.${key} must be a list of strings`);
    }
    return t[key] as string[];
  };
  const text = (key: string): string | undefined => {
    if (t[key] === undefined) return undefined;
    if (typeof t[key] !== 'string')
      throw new TiotaError('validation_failed', `target.${key} must be a string`);
    return t[key] as string;
  };
  for (const key of Object.keys(t)) {
    if (!['devices', 'tags', 'app', 'versionBelow'].includes(key)) {
      throw new TiotaError('validation_failed', `unknown target field "${key}"`);
    }
  }
  const target = {
    devices: list('devices'),
    tags: list('tags'),
    app: text('app'),
    versionBelow: text('versionBelow'),
  };
  if (!target.devices && !target.tags && !target.app) {
    throw new TiotaError('validation_failed', 'target needs devices, tags or app');
  }
  return target;
}

/** Compares dotted versions numerically where both parts are numbers, else as text. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/);
  const pb = b.split(/[.+-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '0';
    const y = pb[i] ?? '0';
    const nx = Number(x);
    const ny = Number(y);
    const diff = Number.isNaN(nx) || Number.isNaN(ny) ? x.localeCompare(y) : nx - ny;
    if (diff !== 0) return Math.sign(diff);
  }
  return 0;
}

/** Device ids per lookup: well under the databases' limits on bound parameters. */
const ID_CHUNK = 2000;

/**
 * The devices a target names, in device id order (the order batches are cut in). Revoked
 * devices are left out; an explicit id that does not exist is an error.
 */
export async function resolveTarget(
  db: Kysely<Database>,
  target: RolloutTarget,
): Promise<Selectable<DevicesTable>[]> {
  let rows: Selectable<DevicesTable>[];
  if (target.devices) {
    rows = await byIds(db, [...new Set(target.devices)]);
    if (target.app) rows = rows.filter((r) => r.app_name === target.app);
  } else {
    let query = db.selectFrom('devices').selectAll().where('revoked_at', 'is', null);
    if (target.app) query = query.where('app_name', '=', target.app);
    rows = await query.execute();
  }
  if (target.tags) {
    const wanted = new Set(target.tags);
    rows = rows.filter((r) => (JSON.parse(r.tags) as string[]).some((tag) => wanted.has(tag)));
  }
  if (target.versionBelow) {
    const below = target.versionBelow;
    rows = rows.filter((r) => r.app_version !== null && compareVersions(r.app_version, below) < 0);
  }
  return rows.sort((a, b) => (a.device_id < b.device_id ? -1 : a.device_id > b.device_id ? 1 : 0));
}

async function byIds(db: Kysely<Database>, ids: string[]): Promise<Selectable<DevicesTable>[]> {
  const found: Selectable<DevicesTable>[] = [];
  for (let i = 0; i < ids.length; i += ID_CHUNK) {
    const chunk = ids.slice(i, i + ID_CHUNK);
    found.push(
      ...(await db.selectFrom('devices').selectAll().where('device_id', 'in', chunk).execute()),
    );
  }
  const known = new Set(found.map((r) => r.device_id));
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length > 0)
    throw new TiotaError('not_found', `device ${unknown.slice(0, 5).join(', ')}`);
  return found.filter((r) => r.revoked_at === null);
}
