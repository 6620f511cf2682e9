import type { Kysely, Selectable } from 'kysely';
import { isValidDeviceId } from '../../shared/protocol/topics.js';
import type { HelloMessage } from '../../shared/protocol/messages.js';
import { TiotaError } from '../errors.js';
import { containsExactly, containsIgnoringCase } from '../store/text-match.js';
import type { Database, DevicesTable } from '../store/schema.js';
import type { Actor, AuditLog } from './audit-log.js';
import type { MoveRequest } from './action-move-batch.js';
import { DeviceActivityWriter } from './device-activity-writer.js';
import { deviceSecretMatches, hashDeviceSecret, newDeviceSecret } from './device-credentials.js';

export interface DeviceView {
  readonly id: string;
  readonly tags: string[];
  readonly profile: string | null;
  readonly app: string | null;
  readonly version: string | null;
  readonly appId: number | null;
  readonly online: boolean;
  readonly lastSeenAt: number | null;
  readonly createdAt: number;
  readonly revoked: boolean;
}

export interface DeviceFilter {
  readonly tag?: string;
  readonly app?: string;
  readonly version?: string;
  readonly online?: boolean;
  readonly q?: string;
  readonly limit?: number;
  readonly offset?: number;
}

export interface DeviceEvent {
  readonly id: number;
  readonly at: number;
  readonly kind: string;
  readonly actionId: number | null;
  readonly detail: Record<string, unknown>;
}

/** What a registration returns: everything a device needs, shown once. */
export interface DeviceCredentials {
  readonly deviceId: string;
  readonly username: string;
  readonly password: string;
  readonly mqttUrl: string;
  readonly serverUrl: string;
  readonly signingPublicKey: string;
}

export interface DeviceEndpoints {
  readonly mqttUrl: string;
  readonly serverUrl: string;
  readonly signingPublicKey: string;
}

const TAG_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export class DeviceService {
  /** Hooks for the broker: forget cached credentials, cut a revoked device off. */
  onRevoked: (deviceId: string) => void = () => undefined;
  /** Awaited, so the broker knows the secret before registration returns. */
  onRegistered: (deviceId: string, password: string) => void | Promise<void> = () => undefined;

  readonly #secretCache = new Map<string, { hash: string; rowId: number; revoked: boolean }>();
  /** Revoked devices' row ids, kept in memory: every download checks it. */
  readonly #revoked = new Set<number>();
  readonly #activity: DeviceActivityWriter;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly audit: AuditLog,
    private readonly endpoints: () => DeviceEndpoints,
  ) {
    this.#activity = new DeviceActivityWriter(db);
  }

  /**
   * `admit` runs first inside the registration's transaction and may throw to refuse it
   * (enrollment spends a token use there, so a refused or duplicate device spends none).
   */
  async register(
    input: { deviceId: string; tags?: string[]; profile?: string },
    actor: Actor,
    admit?: (trx: Kysely<Database>) => Promise<void>,
  ): Promise<DeviceCredentials> {
    if (!isValidDeviceId(input.deviceId)) {
      throw new TiotaError(
        'validation_failed',
        'deviceId must be 1-64 characters: letters, digits and . _ : - (no / + # or spaces)',
      );
    }
    const tags = input.tags ?? [];
    const badTag = tags.find((t) => !TAG_PATTERN.test(t));
    if (badTag !== undefined)
      throw new TiotaError('validation_failed', `tag "${badTag}" is not allowed`);

    const password = newDeviceSecret();
    try {
      await this.db.transaction().execute(async (trx) => {
        await admit?.(trx);
        await trx
          .insertInto('devices')
          .values({
            device_id: input.deviceId,
            secret_hash: hashDeviceSecret(password),
            tags: JSON.stringify([...new Set(tags)]),
            profile: input.profile ?? null,
            app_name: null,
            app_version: null,
            app_id: null,
            online: 0,
            last_seen_at: null,
            created_at: Date.now(),
            revoked_at: null,
          })
          .execute();
        await this.audit.record(
          actor,
          'device.register',
          `device:${input.deviceId}`,
          { tags },
          trx,
        );
      });
    } catch (error) {
      if (String((error as Error).message).match(/unique|duplicate/i)) {
        throw new TiotaError('device_exists', input.deviceId);
      }
      throw error;
    }
    await this.onRegistered(input.deviceId, password);
    const endpoints = this.endpoints();
    return { deviceId: input.deviceId, username: input.deviceId, password, ...endpoints };
  }

  /** Checks MQTT credentials; cached so reconnect storms do not hit the database. */
  async authenticate(deviceId: string, password: string): Promise<number | null> {
    let entry = this.#secretCache.get(deviceId);
    if (!entry) {
      const row = await this.db
        .selectFrom('devices')
        .select(['id', 'secret_hash', 'revoked_at'])
        .where('device_id', '=', deviceId)
        .executeTakeFirst();
      if (!row) return null;
      entry = { hash: row.secret_hash, rowId: Number(row.id), revoked: row.revoked_at !== null };
      this.#secretCache.set(deviceId, entry);
    }
    if (entry.revoked || !deviceSecretMatches(password, entry.hash)) return null;
    return entry.rowId;
  }

  async revoke(deviceId: string, actor: Actor): Promise<void> {
    const row = await this.#row(deviceId);
    if (row.revoked_at !== null) return;
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('devices')
        .set({ revoked_at: Date.now(), online: 0 })
        .where('id', '=', row.id)
        .execute();
      await this.audit.record(actor, 'device.revoke', `device:${deviceId}`, {}, trx);
    });
    this.#secretCache.delete(deviceId);
    this.#revoked.add(Number(row.id));
    this.onRevoked(deviceId);
  }

  /**
   * Issues a device a new secret (routine rotation, or a suspected leak): the old one stops
   * working at once and the device's broker session ends as on revocation (onRevoked only
   * disconnects; the device is not revoked). The new credentials are shown once.
   */
  async rotateSecret(deviceId: string, actor: Actor): Promise<DeviceCredentials> {
    const row = await this.#row(deviceId);
    if (row.revoked_at !== null) {
      throw new TiotaError('invalid_state', `device ${deviceId} is revoked; register a new one`);
    }
    const password = newDeviceSecret();
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('devices')
        .set({ secret_hash: hashDeviceSecret(password) })
        .where('id', '=', row.id)
        .execute();
      await this.audit.record(actor, 'device.rotate_secret', `device:${deviceId}`, {}, trx);
    });
    this.#secretCache.delete(deviceId);
    await this.onRegistered(deviceId, password);
    this.onRevoked(deviceId);
    return { deviceId, username: deviceId, password, ...this.endpoints() };
  }

  /** Re-reads the revoked set (at start, and periodically for revocations by other replicas). */
  async loadRevoked(): Promise<void> {
    const rows = await this.db
      .selectFrom('devices')
      .select(['id', 'device_id'])
      .where('revoked_at', 'is not', null)
      .execute();
    for (const row of rows) {
      if (this.#revoked.has(Number(row.id))) continue;
      this.#revoked.add(Number(row.id));
      // Revoked on another replica: forget its cached secret so it cannot log in here.
      this.#secretCache.delete(row.device_id);
    }
  }

  isRevoked(rowId: number): boolean {
    return this.#revoked.has(rowId);
  }

  async list(filter: DeviceFilter = {}): Promise<{ total: number; devices: DeviceView[] }> {
    let query = this.db.selectFrom('devices');
    // Tags are stored as a JSON list: the quoted tag is found whole, case included.
    if (filter.tag)
      query = query.where(containsExactly(this.db, 'tags', JSON.stringify(filter.tag)));
    if (filter.app) query = query.where('app_name', '=', filter.app);
    if (filter.version) query = query.where('app_version', '=', filter.version);
    if (filter.online !== undefined) query = query.where('online', '=', filter.online ? 1 : 0);
    if (filter.q) query = query.where(containsIgnoringCase('device_id', filter.q));
    const total = await query
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const rows = await query
      .selectAll()
      .orderBy('device_id')
      .limit(Math.min(filter.limit ?? 100, 10000))
      .offset(filter.offset ?? 0)
      .execute();
    return { total: Number(total.n), devices: rows.map(toDeviceView) };
  }

  async get(deviceId: string): Promise<DeviceView> {
    return toDeviceView(await this.#row(deviceId));
  }

  async history(deviceId: string, limit = 200): Promise<DeviceEvent[]> {
    const row = await this.#row(deviceId);
    const events = await this.db
      .selectFrom('device_events')
      .selectAll()
      .where('device_row_id', '=', row.id)
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return events.map((e) => ({
      id: Number(e.id),
      at: Number(e.at),
      kind: e.kind,
      actionId: e.action_id === null ? null : Number(e.action_id),
      detail: JSON.parse(e.detail) as Record<string, unknown>,
    }));
  }

  async rowByDeviceId(deviceId: string): Promise<Selectable<DevicesTable> | undefined> {
    return this.db
      .selectFrom('devices')
      .selectAll()
      .where('device_id', '=', deviceId)
      .executeTakeFirst();
  }

  /** Row ids of many devices in one query (the gateway's first message from each); absent: unknown. */
  async rowIdsOf(deviceIds: readonly string[]): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('devices')
      .select(['id', 'device_id'])
      .where('device_id', 'in', [...deviceIds])
      .execute();
    return new Map(rows.map((row) => [row.device_id, Number(row.id)]));
  }

  /** A hello: the device is online and runs this app (group-committed with other devices'). */
  async recordHello(deviceRowId: number, hello: HelloMessage, at: number): Promise<void> {
    const fields = {
      app_name: hello.app,
      app_version: hello.version,
      app_id: hello.appId ?? null,
      profile: hello.profile ?? null,
    };
    const event = {
      device_row_id: deviceRowId,
      action_id: null,
      kind: 'hello',
      detail: JSON.stringify(hello),
      at,
    };
    await this.#activity.hello(deviceRowId, fields, event);
  }

  /** Records a change of presence; the same news twice (last will and disconnect) is one event. */
  async recordPresence(deviceRowId: number, online: boolean, at: number): Promise<void> {
    const kind = online ? 'online' : 'offline';
    const event = { device_row_id: deviceRowId, action_id: null, kind, detail: '{}', at };
    await this.#activity.presence(deviceRowId, online, event);
  }

  async recordEvent(
    deviceRowId: number,
    actionId: number | null,
    kind: string,
    detail: Record<string, unknown>,
    at: number = Date.now(),
  ): Promise<void> {
    await this.#activity.event({
      device_row_id: deviceRowId,
      action_id: actionId,
      kind,
      detail: JSON.stringify(detail),
      at,
    });
  }

  /**
   * Runs `work` in the same group commit as the device traffic (device-activity-writer.ts);
   * resolves with its result once committed.
   */
  inBatch<T>(work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    return this.#activity.inBatch(work);
  }

  /** Decides and applies a report's move in the next group commit (action-move-batch.ts). */
  moveInBatch<T>(request: MoveRequest<T>): Promise<T> {
    return this.#activity.move(request);
  }

  /** Counts bytes the download server sent for an action, in the next group commit. */
  recordServed(actionId: number, bytes: number): Promise<void> {
    return this.#activity.served(actionId, bytes);
  }

  /** Resolves when every hello and event recorded so far is in the database. */
  flush(): Promise<void> {
    return this.#activity.flush();
  }

  async #row(deviceId: string): Promise<Selectable<DevicesTable>> {
    const row = await this.rowByDeviceId(deviceId);
    if (!row) throw new TiotaError('not_found', `device ${deviceId}`);
    return row;
  }
}

export function toDeviceView(row: Selectable<DevicesTable>): DeviceView {
  return {
    id: row.device_id,
    tags: JSON.parse(row.tags) as string[],
    profile: row.profile,
    app: row.app_name,
    version: row.app_version,
    appId: row.app_id,
    online: row.online === 1,
    lastSeenAt: row.last_seen_at === null ? null : Number(row.last_seen_at),
    createdAt: Number(row.created_at),
    revoked: row.revoked_at !== null,
  };
}
