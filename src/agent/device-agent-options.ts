import type { HelloMessage, StatusMessage } from '../shared/protocol/index.js';
import type { AgentLogger } from './agent-logger.js';
import type { AppRunner } from './app-runner.js';
import type { BackoffPolicy } from './backoff.js';
import type { DeviceCredentials } from './device-credentials.js';
import type { DownloadTuning } from './ota-step.js';

/** What the agent puts in hello.agent unless told otherwise. */
export const AGENT_NAME = 'tiota-agent/0.1.0';

export interface DeviceAgentOptions {
  readonly dataDir: string;
  readonly credentials: DeviceCredentials;
  /** The app a new device runs: used once, when the data folder holds no state yet. */
  readonly initialApp?: { readonly name: string; readonly version: string };
  /** The embedder's logger (pino or compatible); nothing is logged without one. */
  readonly logger?: AgentLogger;
  /**
   * Restarts the device: called once the agent has stopped, after an install and after a
   * failed trial. The CLI exits with REBOOT_EXIT_CODE for its supervisor; an in-process
   * embedder builds a new DeviceAgent on the same folder.
   */
  readonly restart: () => void;
  /** How long a new app must run healthy before the old one is deleted, ms (default 30000). */
  readonly healthWindowMs?: number;
  /** How apps are started and checked (default: an installed app counts as running). */
  readonly runner?: AppRunner;
  /** Pass `-1` as oldAppId: keep the old app after a successful update (default false). */
  readonly keepOldApp?: boolean;
  /** Free app space cap, bytes, on top of the file system's own (default 256 MiB). */
  readonly maxPackageBytes?: number;
  readonly download?: DownloadTuning;
  readonly mqtt?: {
    readonly keepaliveSeconds?: number;
    readonly connectTimeoutMs?: number;
    readonly backoff?: BackoffPolicy;
    /** Overrides the credentials' broker URL (e.g. a host name the device resolves). */
    readonly url?: string;
  };
  /** Free text in hello.agent (default AGENT_NAME). */
  readonly agentName?: string;
  /** hello.profile (default 'agent'). */
  readonly profile?: string;
  /** The device's wall clock, ms (default Date.now); only ever logged against `exp`. */
  readonly now?: () => number;
}

export interface DeviceAgentEvents {
  /** A hello was acknowledged by the broker. */
  hello: [HelloMessage];
  /** A status report was acknowledged by the broker. */
  report: [StatusMessage];
  downloaded: [{ cmd: string; bytes: number; ms: number; attempts: number }];
  /** The broker refused a connection; MQTT CONNACK return code. */
  refused: [number];
  /** The agent stopped itself and is about to call `restart`. */
  restarting: [];
}
