/**
 * What the console reads from the API. Fields the console does not know yet (added by newer
 * servers) stay on the objects and are shown generically, hence the index signatures.
 */

export type Counts = Record<string, number>;

export interface PackageView {
  id: number;
  app: string;
  version: string;
  fileName: string;
  size: number;
  sha256: string;
  kind: 'tapk' | 'file';
  tapk: {
    name: string;
    description: string;
    buildTime: number;
    buildTimeIso: string;
    crc: string;
  } | null;
  signingKeyId: string;
  createdAt: number;
  createdBy: string;
  rollouts?: { id: number; name: string; status: string }[];
  [key: string]: unknown;
}

export interface DeviceView {
  id: string;
  tags: string[];
  profile: string | null;
  app: string | null;
  version: string | null;
  appId: number | null;
  online: boolean;
  lastSeenAt: number | null;
  createdAt: number;
  revoked: boolean;
  [key: string]: unknown;
}

export interface DeviceEvent {
  id: number;
  at: number;
  kind: string;
  actionId: number | null;
  detail: Record<string, unknown>;
}

export interface DeviceWithHistory extends DeviceView {
  history: DeviceEvent[];
}

export interface RolloutTarget {
  devices?: string[];
  tags?: string[];
  app?: string;
  versionBelow?: string;
  [key: string]: unknown;
}

export interface BatchView {
  batch: number;
  size: number;
  counts: Counts;
  [key: string]: unknown;
}

export interface RolloutView {
  id: number;
  name: string;
  status: string;
  package: { id: number; app: string; version: string; size: number };
  target: RolloutTarget;
  settings: Record<string, unknown>;
  currentBatch: number;
  batchCount: number;
  pauseReason: string | null;
  createdBy: string;
  createdAt: number;
  finishedAt: number | null;
  counts: Counts;
  batches: BatchView[];
  /** When the current batch's soak time ends (null: not soaking). */
  soakUntil?: number | null;
  /** The plan made at creation (batches, pacing, expected duration). */
  plan?: Record<string, unknown> | null;
  [key: string]: unknown;
}

export interface RolloutAction {
  id: number;
  deviceId: string;
  batch: number;
  state: string;
  attempt: number;
  fromVersion: string | null;
  bytesServed: number;
  errorCode: string | null;
  errorDetail: string | null;
  updatedAt: number;
  [key: string]: unknown;
}

export interface RolloutPlan {
  dryRun: true;
  package: { id: number; app: string; version: string; size: number };
  devices: number;
  settings: Record<string, unknown>;
  batches: { batch: number; size: number; devices?: string[]; [key: string]: unknown }[];
  [key: string]: unknown;
}

export interface CreateRolloutBody {
  name?: string;
  packageId: number;
  target: RolloutTarget;
  settings?: Record<string, unknown>;
  dryRun?: boolean;
}
