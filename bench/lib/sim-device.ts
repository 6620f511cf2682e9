/**
 * One simulated device on a LeanMqtt connection. `count` only records the commands it gets
 * (fan-out, ingestion); `tijos` behaves like the reference OTA flow (user app says
 * "downloading", the OTA app does one plain GET, the device restarts and the user app says
 * hello with the version it runs); `crash` is the same with a build that crashes at start,
 * so the device comes back on the old app.
 */
import http from 'node:http';
import { LeanMqtt } from './lean-mqtt.js';

export type Behaviour = 'count' | 'tijos' | 'crash';

export interface DeviceSetup {
  readonly host: string;
  readonly port: number;
  readonly localAddress?: string;
  readonly password: string;
  readonly keepaliveSeconds: number;
  readonly behaviour: Behaviour;
  readonly app: string;
  readonly version: string;
  /** Milliseconds the device stays off between the OTA app and the new user app. */
  readonly restartMs: number;
}

export interface DeviceEvents {
  command(device: SimDevice, at: number): void;
  downloaded(device: SimDevice, ok: boolean, ms: number): void;
  restarted(device: SimDevice, version: string): void;
}

export class SimDevice {
  conn: LeanMqtt;
  /** Id of the last install command received, and when (ms since epoch). */
  lastCmd: string | null = null;
  firstCommandAt = 0;
  commands = 0;
  running: string;
  readonly #executed = new Set<string>();

  constructor(
    readonly id: string,
    private readonly setup: DeviceSetup,
    private readonly events: DeviceEvents,
  ) {
    this.running = setup.version;
    this.conn = this.#newConnection();
  }

  get cmdTopic(): string {
    return `tiota/v1/d/${this.id}/cmd`;
  }

  /** Connect, subscribe to commands, then hello (docs/protocol.md, "Connecting"). */
  async start(): Promise<void> {
    await this.conn.connect();
    await this.conn.subscribe(this.cmdTopic);
    await this.conn.publish(`tiota/v1/d/${this.id}/hello`, this.#hello());
  }

  #newConnection(): LeanMqtt {
    const s = this.setup;
    const conn = new LeanMqtt({
      host: s.host,
      port: s.port,
      localAddress: s.localAddress,
      clientId: this.id,
      username: this.id,
      password: s.password,
      keepaliveSeconds: s.keepaliveSeconds,
      will: { topic: `tiota/v1/d/${this.id}/presence`, payload: '{"online":false}' },
    });
    conn.onMessage = (_topic, payload) => this.#onCommand(payload);
    return conn;
  }

  #hello(): string {
    return JSON.stringify({
      app: this.setup.app,
      version: this.running,
      appId: 1,
      profile: 'tijos',
    });
  }

  #onCommand(payload: Buffer): void {
    const at = Date.now();
    const command = JSON.parse(payload.toString()) as {
      op: string;
      id: string;
      url?: string;
      version?: string;
    };
    if (command.op !== 'install') return;
    this.commands++;
    if (this.firstCommandAt === 0) this.firstCommandAt = at;
    this.lastCmd = command.id;
    this.events.command(this, at);
    if (this.setup.behaviour === 'count') return;
    // A device executes a command id once and ignores the version it already runs.
    if (this.#executed.has(command.id) || command.version === this.running) return;
    this.#executed.add(command.id);
    void this.#upgrade(command.id, command.url!, command.version!);
  }

  async #upgrade(cmd: string, url: string, version: string): Promise<void> {
    // The user app reports "starting OTA", then hands over to the OTA app.
    await this.conn
      .publish(`tiota/v1/d/${this.id}/status`, JSON.stringify({ cmd, state: 'downloading' }))
      .catch(() => undefined);
    const started = Date.now();
    const ok = await download(url, this.setup.localAddress);
    this.events.downloaded(this, ok, Date.now() - started);

    // The OTA app always restarts the device; the last will tells the server it went away.
    this.conn.destroy();
    if (ok && this.setup.behaviour === 'tijos') this.running = version;
    await new Promise((r) => setTimeout(r, this.setup.restartMs));
    this.conn = this.#newConnection();
    for (let attempt = 0; ; attempt++) {
      try {
        await this.start();
        break;
      } catch {
        if (attempt >= 20) return;
        await new Promise((r) => setTimeout(r, 200 + Math.random() * 300));
        this.conn = this.#newConnection();
      }
    }
    this.events.restarted(this, this.running);
  }
}

/** The TiJOS OTA app's download: one plain GET, 200 and exactly Content-Length bytes, ≤ 60 s. */
function download(url: string, localAddress: string | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const options = { agent: false, timeout: 60_000, localAddress };
    const request = http.get(url, options, (response) => {
      const expected = Number(response.headers['content-length']);
      if (response.statusCode !== 200 || !Number.isFinite(expected)) {
        response.resume();
        return resolve(false);
      }
      let bytes = 0;
      response.on('data', (chunk: Buffer) => (bytes += chunk.length));
      response.on('end', () => resolve(bytes === expected));
      response.on('error', () => resolve(false));
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}
