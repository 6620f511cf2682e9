import type { Agent as HttpAgent } from 'node:http';
import type { AgentLogger, BackoffPolicy, DeviceCredentials } from '../agent/index.js';
import { DeviceLink } from '../agent/device-link.js';
import {
  cmdTopic,
  helloTopic,
  parseCommand,
  presenceTopic,
  statusTopic,
  type InstallCommand,
} from '../shared/protocol/index.js';
import { countRefusal, newOutcome, type DeviceOutcome, type SimDevice } from './device-outcome.js';
import { DeviceTimers } from './device-timers.js';
import type { DeviceFaults } from './fault-plan.js';
import { between, type Random } from './seeded-random.js';
import { SimulatedLink } from './simulated-link.js';
import { runTijosOta } from './tijos-ota-app.js';

export interface SimDeviceOptions {
  readonly credentials: DeviceCredentials;
  /** The app every device runs at the start. */
  readonly app: { readonly name: string; readonly version: string };
  readonly faults: DeviceFaults;
  readonly random: Random;
  /** How long a restart takes, ms. */
  readonly rebootMs: { readonly min: number; readonly max: number };
  readonly keepaliveSeconds: number;
  readonly backoff: BackoffPolicy;
  readonly log: AgentLogger;
  /** Called on anything a device does (the fleet's idle detection). */
  readonly onActivity: () => void;
  readonly httpAgent?: HttpAgent;
}

export interface TijosOptions extends SimDeviceOptions {
  /** Free app space, bytes (default 1 MiB). */
  readonly freeSpace?: number;
  /** The OTA app's time limit; TIJOS.md fixes it at 60 s, tests shorten it. */
  readonly otaTimeoutMs?: number;
}

interface TijosApp {
  readonly id: number;
  readonly name: string;
  readonly version: string;
}

/** The name the user app looks the OTA app up by (TIJOS.md). */
const OTA_APP_NAME = 'tijos-http-ota';
/** How many executed command ids the user app keeps in flash. */
const EXECUTED_LIMIT = 16;

/**
 * A TiJOS device as TIJOS.md describes it. Its user app connects, says hello with the version
 * of the autorun app, and on a command reports `downloading` and starts the OTA app with
 * `"<oldAppId> <url>"`, which ends the user app. The OTA app (tijos-ota-app.ts) reports
 * nothing; whatever happens, the device restarts and the autorun app says hello again. What
 * the device keeps across restarts (its apps, the ids it executed) is its "flash": fields here.
 */
export class TijosDevice implements SimDevice {
  readonly outcome: DeviceOutcome;
  readonly #o: TijosOptions;
  readonly #link: SimulatedLink;
  #apps: TijosApp[];
  #autorun: number;
  /** The app a crashing new build falls back to (the bootloader's copy). */
  #fallback: TijosApp | null = null;
  #executed: string[] = [];
  #mqtt: DeviceLink | null = null;
  #offline = false;
  readonly #timers = new DeviceTimers();
  /** What the command said the new app is (its version is built into its bytes). */
  #pending: { cmd: InstallCommand; complete: boolean; code: number } | null = null;

  constructor(options: TijosOptions) {
    this.#o = options;
    this.#apps = [
      { id: 1, name: OTA_APP_NAME, version: 'ota' },
      { id: 2, name: options.app.name, version: options.app.version },
    ];
    this.#autorun = 2;
    this.outcome = newOutcome(options.app.version);
    this.#link = new SimulatedLink(
      options.faults,
      options.random,
      () => this.#pending?.cmd.size ?? 1,
      () => this.#offline,
    );
  }

  get id(): string {
    return this.#o.credentials.deviceId;
  }

  async start(): Promise<void> {
    const { offlineAtMs, offlineForMs } = this.#o.faults;
    if (offlineAtMs !== null) {
      this.#timers.later(offlineAtMs, () => this.#goOffline(offlineForMs));
    }
    this.#boot();
  }

  async stop(): Promise<void> {
    this.#timers.stop();
    await this.#mqtt?.stop(true);
  }

  #running(): TijosApp {
    return this.#apps.find((a) => a.id === this.#autorun)!;
  }

  /** Power on: the autorun app starts (and may crash), then the user app connects. */
  #boot(): void {
    if (this.#timers.stopped) return;
    const app = this.#running();
    if (this.#fallback && this.#o.faults.crashes) {
      // The new build crashes at start; the device comes back on the old one.
      const fallback = this.#fallback;
      const others = this.#apps.filter((a) => a.id !== app.id && a.id !== fallback.id);
      this.#apps = [...others, fallback];
      this.#autorun = this.#fallback.id;
      this.outcome.reason = 'crashed_at_start';
      this.#o.log.info({ version: app.version }, 'new build crashed at start');
    }
    this.#fallback = null;
    this.outcome.version = this.#running().version;
    this.#settle();
    if (!this.#offline) this.#connect();
  }

  /** The outcome of the command in progress, known once the device is back. */
  #settle(): void {
    const pending = this.#pending;
    if (!pending) return;
    this.#pending = null;
    const back = this.#running().version === pending.cmd.version;
    this.outcome.state = back ? 'succeeded' : pending.complete ? 'rolled_back' : 'failed';
    this.#o.onActivity();
  }

  #connect(): void {
    const { credentials } = this.#o;
    const link = new DeviceLink({
      url: credentials.mqttUrl,
      clientId: credentials.deviceId,
      username: credentials.username,
      password: credentials.password,
      will: { topic: presenceTopic(this.id), payload: '{"online":false}' },
      keepaliveSeconds: this.#o.keepaliveSeconds,
      backoff: this.#o.backoff,
      log: this.#o.log,
      onConnected: async () => {
        // docs/protocol.md: subscribe first, so the command the hello triggers is not missed.
        await link.subscribe(cmdTopic(this.id));
        const app = this.#running();
        await link.publish(presenceTopic(this.id), '{"online":true}');
        const hello = { app: app.name, version: app.version, appId: app.id, profile: 'tijos' };
        await link.publish(
          helloTopic(this.id),
          JSON.stringify({ ...hello, agent: 'TiJOS (simulated)' }),
        );
        this.outcome.online = true;
      },
      onClosed: () => {
        this.outcome.online = false;
      },
      onMessage: (topic, payload) => void this.#onCommand(link, payload),
      onRefused: (code) => {
        countRefusal(this.outcome, code);
      },
    });
    this.#mqtt = link;
    link.start();
  }

  async #onCommand(link: DeviceLink, payload: Buffer): Promise<void> {
    if (link !== this.#mqtt || this.#pending || payload.length === 0) return;
    let cmd;
    try {
      cmd = parseCommand(payload);
    } catch {
      return; // The user app ignores what it cannot read.
    }
    const running = this.#running();
    if (cmd.op !== 'install' || this.#executed.includes(cmd.id)) return;
    if (cmd.app === running.name && cmd.version === running.version) return;

    this.#executed = [...this.#executed, cmd.id].slice(-EXECUTED_LIMIT);
    this.#pending = { cmd, complete: false, code: -1 };
    Object.assign(this.outcome, { state: 'working', cmd: cmd.id, code: null, reason: null });
    this.outcome.commands += 1;
    this.#o.onActivity();
    // "Starting OTA": the last thing the user app says before the OTA app replaces it.
    await link
      .publish(statusTopic(this.id), JSON.stringify({ cmd: cmd.id, state: 'downloading' }), 5000)
      .catch(() => undefined);
    await link.stop(true);
    this.#mqtt = null;
    await this.#runOta(cmd, `${running.id} ${cmd.url}`);
  }

  async #runOta(cmd: InstallCommand, args: string): Promise<void> {
    const result = await runTijosOta(args, {
      freeSpace: this.#o.freeSpace ?? 1024 * 1024,
      timeoutMs: this.#o.otaTimeoutMs,
      link: this.#link,
      httpAgent: this.#o.httpAgent,
    });
    const pending = this.#pending!;
    pending.complete = result.complete;
    this.outcome.code = result.code;
    if (result.complete) this.outcome.downloadMs = result.downloadMs;
    if (result.code === 0) this.#install(cmd, result.oldAppId, result.sha256);
    this.#o.log.debug({ cmd: cmd.id, code: result.code, bytes: result.bytes }, 'ota app finished');
    this.#o.onActivity();
    // TIJOS.md step 7: whatever happened, the device restarts.
    const { min, max } = this.#o.rebootMs;
    this.#timers.later(between(this.#o.random, min, max), () => this.#boot());
  }

  /** Activates the new app, makes it autorun and deletes the old one (unless -1). */
  #install(cmd: InstallCommand, oldAppId: number, sha256: string | null): void {
    const id = Math.max(...this.#apps.map((a) => a.id)) + 1;
    // The version is built into the app: the commanded one, if these are the commanded bytes.
    const version = sha256 === cmd.sha256 ? cmd.version : `unknown-${sha256?.slice(0, 8)}`;
    const old = this.#apps.find((a) => a.id === oldAppId) ?? null;
    this.#apps = [
      ...this.#apps.filter((a) => oldAppId === -1 || a.id !== oldAppId),
      { id, name: cmd.app, version },
    ];
    this.#autorun = id;
    this.#fallback = old;
  }

  #goOffline(forMs: number): void {
    if (this.#timers.stopped) return;
    this.#offline = true;
    void this.#mqtt?.stop(true);
    this.#mqtt = null;
    this.#o.onActivity();
    this.#timers.later(forMs, () => {
      this.#offline = false;
      // Back online: the user app reconnects, unless the OTA app or a reboot is under way.
      if (!this.#pending) this.#connect();
    });
  }
}
