/** IPC between fleet.ts (the benchmark) and its fleet-worker.ts processes. */
import type { DeviceSetup } from './sim-device.js';

export type ToWorker =
  | {
      type: 'start';
      setup: Omit<DeviceSetup, 'localAddress'>;
      ids: string[];
      localAddresses: string[];
      /** Connects in flight at once, so the broker's accept backlog is not overrun. */
      concurrency: number;
    }
  | { type: 'stats' }
  /** Forget the commands received so far (before the next timed run). */
  | { type: 'reset' }
  | { type: 'ingest'; reports: number }
  | { type: 'stop' };

export interface WorkerStats {
  readonly connected: number;
  /** Devices that got at least one install command. */
  readonly received: number;
  readonly firstReceivedAt: number;
  readonly lastReceivedAt: number;
  readonly downloadsOk: number;
  readonly downloadsFailed: number;
  readonly downloadMsTotal: number;
  readonly restarted: number;
  /** Restarted devices that came back on the new version. */
  readonly restartedOnNew: number;
  readonly rssBytes: number;
}

export type FromWorker =
  | { type: 'connected'; ok: number; failed: number; firstError: string | null; ms: number }
  | { type: 'allReceived'; at: number }
  | { type: 'stats'; stats: WorkerStats }
  | { type: 'ingested'; acked: number; failed: number; startAt: number; endAt: number };
