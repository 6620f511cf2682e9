import { AuditLog, SYSTEM_ACTOR } from '../../../src/server/domain/audit-log.js';
import { CommandIssuer } from '../../../src/server/domain/command-issuer.js';
import { DeviceReportHandler } from '../../../src/server/domain/device-report-handler.js';
import { DeviceService } from '../../../src/server/domain/device-service.js';
import type { PackageService, PackageView } from '../../../src/server/domain/package-service.js';
import { RolloutEngine } from '../../../src/server/domain/rollout-engine.js';
import type { PacingLimits } from '../../../src/server/domain/rollout-plan.js';
import { RolloutService } from '../../../src/server/domain/rollout-service.js';
import { UrlKeyring } from '../../../src/server/keys/url-keyring.js';
import { createLogger } from '../../../src/server/log.js';
import type { MessageBus } from '../../../src/server/mqtt/message-bus.js';
import type { TestDatabase } from '../../support/test-databases.js';

export const PACKAGE_SIZE = 1_000_000;

/**
 * The rollout service and engine on a real database, with a bus that records what it would
 * publish: for tests of passes, pacing and stop rules that need no devices on the wire.
 */
export interface Published {
  readonly deviceId: string;
  readonly id: string;
  readonly op: string;
}

export class EngineBench {
  private constructor(
    readonly published: Published[],
    readonly limits: PacingLimits,
    readonly database: TestDatabase,
    readonly rollouts: RolloutService,
    readonly issuer: CommandIssuer,
    readonly packages: PackageService,
    readonly packageId: number,
  ) {}

  static async open(database: TestDatabase, limits: PacingLimits): Promise<EngineBench> {
    const { db } = database;
    const row = await db
      .insertInto('packages')
      .values({
        app_name: 'demo',
        version: '2.0.0',
        file_name: 'demo.bin',
        size: PACKAGE_SIZE,
        sha256: 'ab'.repeat(32),
        kind: 'file',
        tapk_name: null,
        tapk_description: null,
        tapk_build_time: null,
        tapk_crc: null,
        signature: 'sig',
        signing_key_id: 'k1',
        created_at: Date.now(),
        created_by: 'test',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const pkg = {
      id: Number(row.id),
      app: 'demo',
      version: '2.0.0',
      size: PACKAGE_SIZE,
      sha256: 'ab'.repeat(32),
      signature: 'sig',
    };
    const packages = {
      get: async () => pkg as unknown as PackageView,
      find: async () => pkg as unknown as PackageView,
      holdForRollout: async () => undefined,
    } as unknown as PackageService;
    const published: Published[] = [];
    const bus: MessageBus = {
      publish: async (topic, payload) => {
        const { id, op } = JSON.parse(payload) as { id: string; op: string };
        published.push({ deviceId: topic.split('/')[3], id, op });
      },
      onDeviceMessage: () => undefined,
      disconnect: () => undefined,
      close: async () => undefined,
    };
    const issuer = new CommandIssuer(bus, await UrlKeyring.load(db), () => 'http://h', 3600);
    const rollouts = new RolloutService(db, packages, new AuditLog(db), limits);
    return new EngineBench(published, limits, database, rollouts, issuer, packages, pkg.id);
  }

  /** A new engine (a replica) on the same database and bus, on its own clock if given. */
  engine(nowMs?: () => number): RolloutEngine {
    const log = createLogger('silent');
    return new RolloutEngine(this.database.db, this.packages, null as never, this.issuer, log, {
      limits: this.limits,
      nowMs,
    });
  }

  /** Device report handling on the same database, packages and bus, as the gateway uses it. */
  reportHandler(): { devices: DeviceService; reports: DeviceReportHandler } {
    const db = this.database.db;
    const devices = new DeviceService(db, new AuditLog(db), () => ({
      mqttUrl: 'mqtt://h',
      serverUrl: 'http://h',
      signingPublicKey: '',
    }));
    const log = createLogger('silent');
    const reports = new DeviceReportHandler(db, devices, this.packages, this.issuer, log);
    return { devices, reports };
  }

  /**
   * One online device with a rollout's command sent to it, and the report handler to answer
   * as it: for tests of how reports move its action.
   */
  async oneDeviceSent(settings: Record<string, unknown> = {}) {
    const { devices, reports } = this.reportHandler();
    const [deviceId] = await this.devices('one', 1);
    await this.rollout([deviceId], { canary: 0, batchSize: 0, ...settings });
    await this.engine().tick();
    const action = await this.database.db
      .selectFrom('actions')
      .select(['id', 'device_row_id'])
      .executeTakeFirstOrThrow();
    const command = this.published[this.published.length - 1];
    return {
      devices,
      reports,
      deviceId,
      command,
      rowId: Number(action.device_row_id),
      actionId: Number(action.id),
    };
  }

  async devices(prefix: string, n: number, online = true): Promise<string[]> {
    const ids = Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);
    for (let i = 0; i < ids.length; i += 500) {
      await this.insertDevices(ids.slice(i, i + 500), online);
    }
    return ids;
  }

  private async insertDevices(ids: string[], online: boolean): Promise<void> {
    await this.database.db
      .insertInto('devices')
      .values(
        ids.map((device_id) => ({
          device_id,
          secret_hash: 'x',
          tags: '[]',
          profile: 'tijos',
          app_name: 'demo',
          app_version: '1.0.0',
          app_id: 1,
          online: online ? 1 : 0,
          last_seen_at: null,
          created_at: Date.now(),
          revoked_at: null,
        })) as never,
      )
      .execute();
  }

  async rollout(devices: string[], settings: Record<string, unknown>): Promise<number> {
    const view = await this.rollouts.create(
      { packageId: this.packageId, target: { devices }, settings },
      SYSTEM_ACTOR,
    );
    return view.id;
  }

  /** Moves actions of a rollout to `state` in the database, as reports would. */
  async setState(rolloutId: number, ids: number[], state: string): Promise<void> {
    await this.database.db
      .updateTable('actions')
      .set({ state })
      .where('rollout_id', '=', rolloutId)
      .where('id', 'in', ids)
      .execute();
  }

  async actions(rolloutId: number) {
    return this.rollouts.actions(rolloutId);
  }
}
