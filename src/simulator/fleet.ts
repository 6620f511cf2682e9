import http from 'node:http';
import { silentLogger, type AgentLogger, type DeviceCredentials } from '../agent/index.js';
import { AgentDevice } from './agent-device.js';
import type { SimDevice } from './device-outcome.js';
import { NO_FAULTS, drawFaults, type FaultSettings } from './fault-plan.js';
import { summarize, type FleetSummary } from './fleet-summary.js';
import { seededRandom } from './seeded-random.js';
import { TijosDevice, type SimDeviceOptions } from './tijos-device.js';

export type Profile = 'tijos' | 'agent';
export const PROFILES: readonly Profile[] = ['tijos', 'agent'];

export interface FleetOptions {
  readonly credentials: readonly DeviceCredentials[];
  readonly profile: Profile;
  /** The app every device runs at the start. */
  readonly app: { readonly name: string; readonly version: string };
  readonly faults?: FaultSettings;
  /** Seed of the fault draws (default 1): the same seed gives every device the same faults. */
  readonly seed?: number;
  /** Devices started per second (default 500): a fleet does not all power on at once. */
  readonly startPerSecond?: number;
  /** Restart time, seconds (default 1–3). */
  readonly rebootSeconds?: { readonly min: number; readonly max: number };
  /** MQTT keepalive, seconds (default 60). */
  readonly keepaliveSeconds?: number;
  /** `agent` profile: the folder for the devices' data (required for it). */
  readonly dataDir?: string;
  /** `agent` profile: health window, ms (default 2000). */
  readonly healthWindowMs?: number;
  /** `tijos` profile: the OTA app's limit, ms; TIJOS.md says 60000. */
  readonly otaTimeoutMs?: number;
  /** `tijos` profile: free app space per device, bytes (default 1 MiB). */
  readonly freeSpace?: number;
  /** Broker URL for every device, overriding the credentials' (e.g. through a tunnel). */
  readonly mqttUrl?: string;
  readonly logger?: AgentLogger;
}

/**
 * Many simulated devices in one process, each with its own MQTT connection and its own HTTP
 * downloads. What devices share is what a process can share without changing what the server
 * sees: the code, one HTTP agent (without keep-alive: every download is its own connection,
 * as on a device), and timers only while something is pending.
 */
export class Fleet {
  readonly devices: SimDevice[];
  readonly #o: FleetOptions;
  readonly #baselineHeap = process.memoryUsage().heapUsed;
  readonly #httpAgent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  #startedAt = 0;
  #lastActivity = Date.now();

  constructor(options: FleetOptions) {
    this.#o = options;
    const random = seededRandom(options.seed ?? 1);
    const log = options.logger ?? silentLogger;
    const reboot = options.rebootSeconds ?? { min: 1, max: 3 };
    this.devices = options.credentials.map((credentials) => {
      const common: SimDeviceOptions = {
        credentials: options.mqttUrl ? { ...credentials, mqttUrl: options.mqttUrl } : credentials,
        app: options.app,
        faults: drawFaults(options.faults ?? NO_FAULTS, random),
        random,
        rebootMs: { min: reboot.min * 1000, max: reboot.max * 1000 },
        keepaliveSeconds: options.keepaliveSeconds ?? 60,
        backoff: { baseMs: 1000, maxMs: 30_000 },
        log: log.child({ deviceId: credentials.deviceId }),
        onActivity: () => {
          this.#lastActivity = Date.now();
        },
        httpAgent: this.#httpAgent,
      };
      if (options.profile === 'tijos') {
        return new TijosDevice({
          ...common,
          otaTimeoutMs: options.otaTimeoutMs,
          freeSpace: options.freeSpace,
        });
      }
      if (!options.dataDir) throw new Error('the agent profile needs a data folder');
      return new AgentDevice({
        ...common,
        dataDir: options.dataDir,
        healthWindowMs: options.healthWindowMs,
      });
    });
  }

  /** Starts the devices, `startPerSecond` at a time. */
  async start(): Promise<void> {
    this.#startedAt = Date.now();
    const perTick = Math.max(1, Math.round((this.#o.startPerSecond ?? 500) / 10));
    for (let i = 0; i < this.devices.length; i += perTick) {
      await Promise.all(this.devices.slice(i, i + perTick).map((d) => d.start()));
      if (i + perTick < this.devices.length) await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Milliseconds since any device last did anything. */
  get idleMs(): number {
    return Date.now() - this.#lastActivity;
  }

  /** Some device took a command, and none is still working on one. */
  get settled(): boolean {
    return this.devices.some((d) => d.outcome.commands > 0) && !this.busy;
  }

  /** Some device is working on a command. */
  get busy(): boolean {
    return this.devices.some((d) => d.outcome.state === 'working');
  }

  /**
   * Resolves once the fleet has settled and stayed quiet for `idleMs`, or `timeoutMs` passed,
   * or `stop` resolved (Ctrl-C). With `anyCommand: false` a fleet that took no command at all
   * counts as settled too (the rollout ended without reaching it).
   */
  async waitSettled(
    idleMs: number,
    timeoutMs: number,
    stop?: Promise<unknown>,
    anyCommand = true,
  ): Promise<'settled' | 'timeout' | 'stopped'> {
    const end = Date.now() + timeoutMs;
    let stopped = false;
    void stop?.then(() => {
      stopped = true;
    });
    for (;;) {
      if (stopped) return 'stopped';
      const done = anyCommand ? this.settled : !this.busy;
      if (done && this.idleMs >= idleMs) return 'settled';
      if (Date.now() >= end) return 'timeout';
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  summary(): FleetSummary {
    return summarize(
      this.#o.profile,
      this.devices.map((d) => d.outcome),
      Date.now() - this.#startedAt,
      this.#baselineHeap,
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.devices.map((d) => d.stop()));
    this.#httpAgent.destroy();
  }
}
