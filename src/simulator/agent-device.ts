import path from 'node:path';
import { rm } from 'node:fs/promises';
import { DeviceAgent, type AppRunner, type DeviceAgentOptions } from '../agent/index.js';
import { countRefusal, newOutcome, type DeviceOutcome, type SimDevice } from './device-outcome.js';
import { DeviceTimers } from './device-timers.js';
import type { SimDeviceOptions } from './tijos-device.js';
import { between } from './seeded-random.js';
import { SimulatedLink } from './simulated-link.js';

export interface AgentSimOptions extends SimDeviceOptions {
  /** Folder for this device's agent data (apps, state). */
  readonly dataDir: string;
  /** The agent's health window, ms (default 2000: short, for rehearsals). */
  readonly healthWindowMs?: number;
}

const FINAL_STATES = ['succeeded', 'failed', 'rolled_back', 'rejected', 'canceled'] as const;

/** A new build that crashes: it exits this long after it started, inside the window. */
const CRASH_AFTER_MS = 100;

/**
 * A device running the real agent in-process (src/agent): resumable, verifying, with its
 * health window and rollback. A restart builds a new DeviceAgent on the same folder, so only
 * what the agent wrote to disk survives it. An offline spell is a power-off for this profile:
 * the agent stops and boots again when the spell ends.
 */
export class AgentDevice implements SimDevice {
  readonly outcome: DeviceOutcome;
  readonly #o: AgentSimOptions;
  readonly #link: SimulatedLink;
  #agent: DeviceAgent | null = null;
  #offline = false;
  #size = 1;
  readonly #timers = new DeviceTimers();
  #seen = new Set<string>();

  constructor(options: AgentSimOptions) {
    this.#o = options;
    this.outcome = newOutcome(options.app.version);
    this.#link = new SimulatedLink(
      options.faults,
      options.random,
      () => this.#size,
      () => this.#offline,
    );
  }

  get id(): string {
    return this.#o.credentials.deviceId;
  }

  async start(): Promise<void> {
    const { offlineAtMs, offlineForMs } = this.#o.faults;
    if (offlineAtMs !== null)
      this.#timers.later(offlineAtMs, () => void this.#goOffline(offlineForMs));
    await this.#boot();
  }

  async stop(): Promise<void> {
    this.#timers.stop();
    await this.#agent?.stop();
  }

  /** Removes the device's data folder (after the simulation). */
  async dispose(): Promise<void> {
    await rm(this.#dataDir(), { recursive: true, force: true });
  }

  #dataDir(): string {
    return path.join(this.#o.dataDir, this.id);
  }

  async #boot(): Promise<void> {
    if (this.#timers.stopped || this.#offline) return;
    const o = this.#o;
    const skew = o.faults.clockSkewMs;
    const options: DeviceAgentOptions = {
      dataDir: this.#dataDir(),
      credentials: o.credentials,
      initialApp: o.app,
      logger: o.log,
      healthWindowMs: o.healthWindowMs ?? 2000,
      runner: this.#runner(),
      download: {
        shaper: this.#link.active ? this.#link.shape : undefined,
        httpAgent: o.httpAgent,
        maxAttempts: 12,
      },
      mqtt: { keepaliveSeconds: o.keepaliveSeconds, backoff: o.backoff },
      now: () => Date.now() + skew,
      restart: () => {
        const { min, max } = o.rebootMs;
        this.#timers.later(between(o.random, min, max), () => void this.#boot());
      },
    };
    const agent = new DeviceAgent(options);
    this.#agent = agent;
    agent.on('report', (report) => {
      o.onActivity();
      const outcome = this.outcome;
      if (report.cmd !== outcome.cmd) {
        // Reports can repeat (sent again after a restart); only a new id is a new command.
        if (this.#seen.has(report.cmd)) return;
        this.#seen.add(report.cmd);
        Object.assign(outcome, { cmd: report.cmd, code: null, reason: null });
        outcome.commands += 1;
      }
      const final = FINAL_STATES.find((s) => s === report.state);
      if (!final) {
        outcome.state = 'working';
        return;
      }
      Object.assign(outcome, {
        state: final,
        code: report.code ?? null,
        reason: report.reason ?? null,
      });
    });
    agent.on('restarting', () => {
      this.outcome.online = false;
    });
    agent.on('hello', (hello) => {
      this.outcome.online = true;
      this.outcome.version = hello.version;
      o.onActivity();
    });
    agent.on('downloaded', (info) => {
      this.outcome.downloadMs = info.ms;
      this.#size = Math.max(1, info.bytes);
    });
    agent.on('refused', (code) => {
      countRefusal(this.outcome, code);
    });
    await agent.start();
  }

  /** Apps "run" in-process; on a device with the crash fault every new build crashes. */
  #runner(): AppRunner {
    const { crashes } = this.#o.faults;
    const initial = this.#o.app.version;
    return {
      start: async (app) => ({
        exited:
          crashes && app.version !== initial
            ? new Promise((r) => setTimeout(() => r({ code: 1, signal: null }), CRASH_AFTER_MS))
            : new Promise(() => undefined),
        stop: async () => undefined,
      }),
    };
  }

  async #goOffline(forMs: number): Promise<void> {
    this.#offline = true;
    this.outcome.online = false;
    this.#o.onActivity();
    await this.#agent?.stop();
    this.#timers.later(forMs, () => {
      this.#offline = false;
      void this.#boot();
    });
  }
}
