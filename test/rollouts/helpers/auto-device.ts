import mqtt, { type MqttClient } from 'mqtt';
import {
  cmdTopic,
  helloTopic,
  presenceTopic,
  statusTopic,
  type DeviceCommand,
  type InstallCommand,
} from '../../../src/shared/protocol/index.js';

export interface AutoDeviceOptions {
  /** Milliseconds between the end of the download and the post-restart hello. */
  readonly restartMs: number;
  /** The new app crashes at start: the device comes back on the old version. */
  readonly crashes?: boolean;
}

/**
 * A device that upgrades itself the TiJOS way on its own (TIJOS.md): on an install command the
 * user app says "downloading" and starts the OTA app, which makes one GET of the URL, installs,
 * and restarts the device whatever happened. It executes a command id once, ignores a command
 * for the version it runs, and keeps reconnecting while the server is away.
 */
export class AutoDevice {
  readonly received: DeviceCommand[] = [];
  /** Completed installs of a new version. */
  installs = 0;
  #client: MqttClient | null = null;
  readonly #executed = new Set<string>();
  #stopped = false;
  #busy = false;

  constructor(
    readonly creds: { deviceId: string; password: string; mqttUrl: string },
    public version: string,
    private readonly options: AutoDeviceOptions,
  ) {}

  start(): void {
    const { deviceId, password, mqttUrl } = this.creds;
    const client = mqtt.connect(mqttUrl, {
      username: deviceId,
      password,
      clientId: `auto-${deviceId}`,
      clean: true,
      reconnectPeriod: 200,
      connectTimeout: 2000,
      will: {
        topic: presenceTopic(deviceId),
        payload: Buffer.from('{"online":false}'),
        qos: 1,
        retain: false,
      },
    });
    client.on('error', () => undefined); // refused while the server restarts: try again
    client.on('connect', () => void this.#announce(client));
    client.on('message', (topic, payload) => {
      if (topic !== cmdTopic(deviceId)) return;
      const command = JSON.parse(payload.toString()) as DeviceCommand;
      this.received.push(command);
      if (command.op === 'install') this.#execute(command);
    });
    this.#client = client;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#client?.endAsync(true);
  }

  async #announce(client: MqttClient): Promise<void> {
    try {
      await client.subscribeAsync(cmdTopic(this.creds.deviceId), { qos: 1 });
      const hello = { app: 'tijos-http-ota', version: this.version, appId: 1, profile: 'tijos' };
      await client.publishAsync(helloTopic(this.creds.deviceId), JSON.stringify(hello), { qos: 1 });
    } catch {
      // The connection dropped again; the next 'connect' announces.
    }
  }

  #execute(command: InstallCommand): void {
    // While the OTA app runs, the user app that takes commands does not.
    if (this.#busy || this.#executed.has(command.id) || command.version === this.version) return;
    this.#executed.add(command.id);
    this.#busy = true;
    void this.#ota(command).finally(() => (this.#busy = false));
  }

  async #ota(command: InstallCommand): Promise<void> {
    const client = this.#client!;
    const status = { cmd: command.id, state: 'downloading' };
    await client
      .publishAsync(statusTopic(this.creds.deviceId), JSON.stringify(status), { qos: 1 })
      .catch(() => undefined);
    let complete = false;
    try {
      const res = await fetch(command.url, { signal: AbortSignal.timeout(60_000) });
      complete = res.status === 200 && (await res.arrayBuffer()).byteLength === command.size;
    } catch {
      complete = false; // TiJOS: -1, the device restarts on the old app
    }
    if (complete && !this.options.crashes) {
      this.version = command.version;
      this.installs++;
    }
    await new Promise((r) => setTimeout(r, this.options.restartMs));
    if (this.#stopped) return;
    // Restart: the connection drops without DISCONNECT (the broker sends the last will) and
    // the device comes back with a hello of whatever it runs now.
    client.stream.destroy();
  }
}
