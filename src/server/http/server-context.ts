import type { Kysely } from 'kysely';
import type { Registry } from 'prom-client';
import type { ServerConfig } from '../config.js';
import type { AuditLog } from '../domain/audit-log.js';
import type { DeviceService } from '../domain/device-service.js';
import type { PackageService } from '../domain/package-service.js';
import type { RolloutService } from '../domain/rollout-service.js';
import type { KeyRotation } from '../keys/key-rotation.js';
import type { Logger } from '../log.js';
import type { Database } from '../store/schema.js';

/** What HTTP routes may use: the domain services, never the broker or storage directly. */
export interface ServerContext {
  readonly config: ServerConfig;
  readonly db: Kysely<Database>;
  readonly log: Logger;
  readonly metrics: Registry;
  readonly audit: AuditLog;
  readonly packages: PackageService;
  readonly devices: DeviceService;
  readonly rollouts: RolloutService;
  /** Signing keys: listing and rotation (admins). */
  readonly keys: KeyRotation;
  /** Extra readiness facts for /healthz (broker connected, database reachable). */
  readonly health: () => Promise<Record<string, boolean>>;
}
