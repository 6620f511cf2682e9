import { EventEmitter } from 'node:events';
import {
  cmdTopic,
  helloTopic,
  presenceTopic,
  statusTopic,
  type HelloMessage,
  type InstallCommand,
} from '../shared/protocol/index.js';
import { silentLogger, type AgentLogger } from './agent-logger.js';
import {
  AGENT_NAME,
  type DeviceAgentEvents,
  type DeviceAgentOptions,
} from './device-agent-options.js';
import {
  findApp,
  rememberSeen,
  runningApp,
  type AgentState,
  type AppRecord,
  type JobState,
} from './app-model.js';
import { installedIsRunning, type AppRunner, type RunningApp } from './app-runner.js';
import { takeCommand } from './command-intake.js';
import { DeviceLink } from './device-link.js';
import { watchHealth } from './health-window.js';
import { admitInstall } from './install-admission.js';
import { OTA_REASONS, OtaFailure, type OtaReason } from './ota-reasons.js';
import { discardPart, runOtaStep } from './ota-step.js';
import { ReportOutbox } from './report-outbox.js';
import { StateStore } from './state-store.js';
import { commitTrial, rollBackTrial } from './trial-outcome.js';

const DEFAULT_HEALTH_WINDOW_MS = 30_000;
const DEFAULT_MAX_PACKAGE_BYTES = 256 * 1024 * 1024;

/**
 * A device: the TiJOS app model in a data folder, an MQTT link to the server, and the safe
 * OTA flow of docs/agent.md — verify, install on trial, restart, health window, then commit
 * (delete the old app) or roll back. All it knows after a restart comes from the folder.
 */
export class DeviceAgent extends EventEmitter<DeviceAgentEvents> {
  readonly #o: DeviceAgentOptions;
  readonly #log: AgentLogger;
  readonly #runner: AppRunner;
  readonly #stop = new AbortController();
  #store!: StateStore;
  #outbox!: ReportOutbox;
  #link: DeviceLink | null = null;
  #app: RunningApp | null = null;
  #job: { readonly id: string; readonly abort: AbortController } | null = null;
  #queued: Buffer | null = null;
  #chain: Promise<void> = Promise.resolve();
  #stopping = false;

  constructor(options: DeviceAgentOptions) {
    super();
    this.#o = options;
    this.#log = (options.logger ?? silentLogger).child({ deviceId: options.credentials.deviceId });
    this.#runner = options.runner ?? installedIsRunning;
  }

  get deviceId(): string {
    return this.#o.credentials.deviceId;
  }

  /** The state as it is on disk. */
  get state(): Readonly<AgentState> {
    return this.#store.state;
  }

  /** Boots the device: settles a trial left by the last boot, starts the app, goes online. */
  async start(): Promise<void> {
    this.#store = await StateStore.open(this.#o.dataDir, this.#o.initialApp);
    this.#outbox = new ReportOutbox(
      this.#store,
      () =>
        this.#link
          ? { connected: this.#link.connected, publish: (p) => this.#publish('status', p) }
          : null,
      this.#log,
      (report) => this.emit('report', report),
    );
    await this.#store.update((s) => {
      s.boots += 1;
    });
    const removed = await this.#store.collectGarbage();
    if (removed.length) this.#log.info({ removed }, 'removed files no state refers to');

    const trial = this.#store.state.trial;
    if (trial && !trial.booted && !trial.failure) {
      await this.#beginTrial();
      return;
    }
    if (trial) {
      const failure = trial.failure ?? {
        reason: 'restarted_in_health_window' as const,
        detail: 'the device restarted before the health window ended',
      };
      await rollBackTrial(this.#store, failure.reason, failure.detail, this.#log);
    }
    await this.#startApp(runningApp(this.#store.state));
    const job = this.#store.state.job;
    if (job) void this.#runJob(job);
    this.#goOnline();
  }

  /** Stops everything without changing the state: the next start() carries on from disk. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#stop.abort('stop');
    // A report on the wire is let through to its PUBACK, so the next boot does not resend it.
    await Promise.race([this.#outbox?.idle(), new Promise((r) => setTimeout(r, 2000))]);
    if (this.#link?.connected) {
      await this.#publish('presence', JSON.stringify({ online: false })).catch(() => undefined);
    }
    await this.#link?.stop(false);
    await this.#app?.stop();
  }

  async #beginTrial(): Promise<void> {
    await this.#store.update((s) => {
      if (s.trial) s.trial = { ...s.trial, booted: true };
    });
    const trial = this.#store.state.trial!;
    const app = findApp(this.#store.state, trial.newAppId)!;
    const file = app.file ? this.#store.resolve(app.file) : null;
    const windowMs = this.#o.healthWindowMs ?? DEFAULT_HEALTH_WINDOW_MS;
    this.#log.info({ appId: app.id, version: app.version, windowMs }, 'trying the new app');
    let running: RunningApp;
    try {
      running = await this.#runner.start(app, file);
    } catch (error) {
      await this.#failTrial('app_start_failed', String(error));
      return;
    }
    this.#app = running;
    // Offline on purpose: a hello now would announce a version that may yet roll back.
    void watchHealth(running, app, file, this.#runner, windowMs, this.#stop.signal)
      .then(async (verdict) => {
        if (verdict === null) return;
        if (!verdict.healthy) return this.#failTrial(verdict.reason, verdict.detail);
        await commitTrial(this.#store, this.#log);
        this.#goOnline();
      })
      .catch((error: unknown) => this.#log.error({ err: String(error) }, 'health window failed'));
  }

  async #failTrial(reason: OtaReason, detail: string): Promise<void> {
    this.#log.warn({ reason, detail }, 'new app failed its trial: restarting into the old one');
    await this.#store.update((s) => {
      if (s.trial) s.trial = { ...s.trial, failure: { reason, detail } };
    });
    await this.#reboot();
  }

  async #startApp(app: AppRecord): Promise<void> {
    try {
      this.#app = await this.#runner.start(app, app.file ? this.#store.resolve(app.file) : null);
    } catch (error) {
      // Stay reachable even so: an update is the way out of a broken app.
      this.#log.error({ err: String(error), appId: app.id }, 'the autorun app did not start');
    }
  }

  #goOnline(): void {
    if (this.#stopping) return;
    const { credentials } = this.#o;
    this.#link = new DeviceLink({
      url: this.#o.mqtt?.url ?? credentials.mqttUrl,
      clientId: credentials.deviceId,
      username: credentials.username,
      password: credentials.password,
      will: {
        topic: presenceTopic(credentials.deviceId),
        payload: JSON.stringify({ online: false }),
      },
      keepaliveSeconds: this.#o.mqtt?.keepaliveSeconds,
      connectTimeoutMs: this.#o.mqtt?.connectTimeoutMs,
      backoff: this.#o.mqtt?.backoff,
      log: this.#log,
      onConnected: () => this.#onConnected(),
      onMessage: (topic, payload) => this.#onMessage(topic, payload),
      onRefused: (code) => this.emit('refused', code),
    });
    this.#link.start();
  }

  /**
   * docs/protocol.md, "Order on every connect": subscribe, then hello (the hello makes the
   * server send the current command, and counts the device upgraded when it names the target
   * version), then the queued reports, whose reasons the server keeps in the device history.
   */
  async #onConnected(): Promise<void> {
    await this.#link!.subscribe(cmdTopic(this.deviceId));
    await this.#publish('presence', JSON.stringify({ online: true }));
    const hello = this.#hello();
    await this.#publish('hello', JSON.stringify(hello));
    this.emit('hello', hello);
    await this.#outbox.flush();
  }

  #hello(): HelloMessage {
    const state = this.#store.state;
    const app = runningApp(state);
    const busy = this.#job?.id ?? state.job?.cmd.id;
    return {
      app: app.name,
      version: app.version,
      appId: app.id,
      agent: this.#o.agentName ?? AGENT_NAME,
      profile: this.#o.profile ?? 'agent',
      ...(state.last && { last: state.last }),
      ...(busy && { busy }),
    };
  }

  #publish(kind: 'hello' | 'status' | 'presence', payload: string): Promise<void> {
    const topic = { hello: helloTopic, status: statusTopic, presence: presenceTopic }[kind];
    if (!this.#link) return Promise.reject(new Error('offline'));
    return this.#link.publish(topic(this.deviceId), payload);
  }

  #onMessage(topic: string, payload: Buffer): void {
    if (topic !== cmdTopic(this.deviceId)) return;
    this.#chain = this.#chain
      .then(() => this.#onCommand(payload))
      .catch((error: unknown) =>
        this.#log.error({ err: String(error) }, 'command handling failed'),
      );
  }

  async #onCommand(payload: Buffer): Promise<void> {
    if (this.#stopping) return;
    const intake = takeCommand(payload);
    const seen = (key: string): boolean => this.#store.state.seen.includes(key);
    switch (intake.kind) {
      case 'ignore':
        return;
      case 'reject':
        if (seen(intake.key)) return;
        this.#log.warn({ detail: intake.detail, cmd: intake.cmdId }, 'command rejected');
        await this.#outbox.final(
          {
            cmd: intake.cmdId,
            state: 'rejected',
            reason: 'malformed_command',
            detail: intake.detail,
          },
          (s) => rememberSeen(s, intake.key),
        );
        return;
      case 'cancel':
        if (this.#job?.id === intake.id) {
          this.#job.abort.abort('cancel');
        } else if (!seen(intake.id)) {
          await this.#store.update((s) => rememberSeen(s, intake.id));
        }
        return;
      case 'install':
        if (seen(intake.cmd.id)) {
          this.#log.debug({ cmd: intake.cmd.id }, 'command already executed');
          return;
        }
        if (this.#job || this.#store.state.job || this.#store.state.trial) {
          this.#queued = payload;
          return;
        }
        await this.#accept(intake.cmd);
    }
  }

  async #accept(cmd: InstallCommand): Promise<void> {
    this.#log.info(
      { cmd: cmd.id, app: cmd.app, version: cmd.version, size: cmd.size },
      'command received',
    );
    const now = (this.#o.now ?? Date.now)();
    if (cmd.exp * 1000 < now) {
      // Devices do not judge time (their clocks drift): the server decides whether the URL works.
      this.#log.warn({ exp: cmd.exp, now }, 'the URL looks expired by this device clock');
    }
    const admission = await admitInstall(cmd, {
      state: this.#store.state,
      dataDir: this.#o.dataDir,
      signingPublicKey: this.#o.credentials.signingPublicKey,
      keepOldApp: this.#o.keepOldApp ?? false,
      maxPackageBytes: this.#o.maxPackageBytes ?? DEFAULT_MAX_PACKAGE_BYTES,
    });
    const seen = (s: AgentState): void => rememberSeen(s, cmd.id);
    if (admission.kind === 'fail') {
      const { reason, detail } = admission;
      const code = OTA_REASONS[reason].code;
      return this.#outbox.final({ cmd: cmd.id, state: 'failed', code, reason, detail }, seen);
    }
    if (admission.kind === 'current') {
      // docs/protocol.md: a command for the running version is ignored; the hello says it all.
      this.#log.info({ cmd: cmd.id, version: admission.version }, 'already running this version');
      return this.#store.update(seen);
    }
    const { job } = admission;
    await this.#store.update((s) => {
      seen(s);
      s.job = job;
    });
    void this.#outbox.progress({ cmd: cmd.id, state: 'accepted' });
    void this.#runJob(job);
  }

  async #runJob(job: JobState): Promise<void> {
    const abort = new AbortController();
    const onStop = (): void => abort.abort('stop');
    this.#stop.signal.addEventListener('abort', onStop, { once: true });
    this.#job = { id: job.cmd.id, abort };
    const cmd = job.cmd.id;
    try {
      await runOtaStep(job, {
        store: this.#store,
        log: this.#log.child({ cmd }),
        signal: abort.signal,
        tuning: this.#o.download ?? {},
        progress: (report) => void this.#outbox.progress({ cmd, ...report }),
        progressEveryMs: 2000,
        onDownloaded: (info) => this.emit('downloaded', { cmd, ...info }),
      });
      this.#job = null;
      await this.#outbox.progress({ cmd, state: 'restarting' }, 2000);
      await this.#reboot();
      return;
    } catch (error) {
      this.#job = null;
      if (abort.signal.reason === 'stop') return;
      await discardPart(this.#store, job);
      if (abort.signal.aborted) {
        await this.#outbox.final({ cmd, state: 'canceled', reason: 'canceled' }, (s) => {
          s.job = null;
        });
      } else {
        const failure =
          error instanceof OtaFailure ? error : new OtaFailure('install_failed', String(error));
        this.#log.warn({ cmd, reason: failure.reason, err: failure.message }, 'update failed');
        await this.#outbox.final(
          {
            cmd,
            state: 'failed',
            code: failure.code,
            reason: failure.reason,
            http: failure.extra.http,
            bytes: failure.extra.bytes,
            detail: failure.message,
          },
          (s) => {
            s.job = null;
          },
        );
      }
    } finally {
      this.#stop.signal.removeEventListener('abort', onStop);
    }
    const queued = this.#queued;
    this.#queued = null;
    if (queued) this.#onMessage(cmdTopic(this.deviceId), queued);
  }

  async #reboot(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#stop.abort('stop');
    this.emit('restarting');
    // Dropped, not closed: the broker publishes the last will, as after a real reboot.
    await this.#link?.stop(true);
    await this.#app?.stop();
    this.#o.restart();
  }
}
