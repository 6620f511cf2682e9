import { createHash } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { HelloMessage, InstallCommand } from '../../../src/shared/protocol/index.js';
import {
  cmdTopic,
  helloTopic,
  presenceTopic,
  statusTopic,
} from '../../../src/shared/protocol/index.js';

export interface DeviceCredentials {
  readonly deviceId: string;
  readonly password: string;
  readonly mqttUrl: string;
}

/**
 * A device that upgrades the way a TiJOS device does (../shared/TIJOS.md): its user app says
 * hello on every boot; on an install command it reports `downloading` and starts the OTA app,
 * which ends the user app (the MQTT connection drops without DISCONNECT, so the broker sends
 * the last will); the OTA app makes one plain GET, installs, and the device restarts, coming
 * back with the new version, or the old one after any error. It executes a command id once
 * and ignores a command for the version it runs (docs/protocol.md), and records every command
 * it received, so a test can count repeats.
 */
export class TijosLikeDevice {
  version: string;
  /** Every command id received, repeats included. */
  readonly received: string[] = [];
  readonly executed: string[] = [];
  /** Downloads that did not bring the whole, right package. */
  failedDownloads = 0;
  /** How long the user app holds a command before it starts the OTA app, ms. */
  startDelayMs = 0;
  #appId = 1;
  #last: HelloMessage['last'];
  #client: MqttClient | null = null;
  #work: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(
    readonly creds: DeviceCredentials,
    readonly app: string,
    version: string,
    /** Milliseconds the OTA app takes before its GET and before the restart. */
    private readonly delays: () => number = () => 200 + Math.random() * 800,
  ) {
    this.version = version;
  }

  /** Boots: connects (retrying until the broker knows the account), subscribes, says hello. */
  async boot(): Promise<void> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        this.#client = await mqtt.connectAsync(this.creds.mqttUrl, {
          username: this.creds.deviceId,
          password: this.creds.password,
          clientId: `tijos-${this.creds.deviceId}`,
          clean: true,
          reconnectPeriod: 0,
          will: {
            topic: presenceTopic(this.creds.deviceId),
            payload: Buffer.from('{"online":false}'),
            qos: 1,
            retain: false,
          },
        });
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(200);
      }
    }
    const client = this.#client;
    client.on('message', (topic, payload) => {
      if (topic === cmdTopic(this.creds.deviceId))
        this.#onCommand(client, JSON.parse(payload.toString()));
    });
    await client.subscribeAsync(cmdTopic(this.creds.deviceId), { qos: 1 });
    const hello: HelloMessage = {
      app: this.app,
      version: this.version,
      appId: this.#appId,
      profile: 'tijos',
      ...(this.#last && { last: this.#last }),
    };
    await client.publishAsync(helloTopic(this.creds.deviceId), JSON.stringify(hello), { qos: 1 });
  }

  /** Resolves when the device is idle (no OTA in progress). */
  settled(): Promise<void> {
    return this.#work;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#work.catch(() => undefined);
    await this.#client?.endAsync(true);
  }

  #onCommand(client: MqttClient, command: InstallCommand): void {
    this.received.push(command.id);
    if (command.op !== 'install' || this.executed.includes(command.id)) return;
    if (command.version === this.version) return;
    this.executed.push(command.id);
    this.#work = this.#work.then(async () => {
      await sleep(this.startDelayMs);
      await this.#runOta(client, command);
    });
  }

  async #runOta(client: MqttClient, command: InstallCommand): Promise<void> {
    const status = { cmd: command.id, state: 'downloading' };
    await client.publishAsync(statusTopic(this.creds.deviceId), JSON.stringify(status), { qos: 1 });
    // TiAPP.execute: the user app ends, its connection with it.
    client.stream.destroy();
    await client.endAsync(true).catch(() => undefined);

    await sleep(this.delays());
    const ok = await this.#download(command);
    await sleep(this.delays());
    if (ok) {
      this.version = command.version;
      this.#appId += 1;
      this.#last = { cmd: command.id, state: 'succeeded', code: 0 };
    } else {
      this.failedDownloads += 1;
      this.#last = { cmd: command.id, state: 'failed', code: -1 };
    }
    if (!this.#stopped) await this.boot();
  }

  /** One GET, no Range, no retry, no redirect; 200 and the exact length or it failed. */
  async #download(command: InstallCommand): Promise<boolean> {
    try {
      const response = await fetch(command.url, {
        redirect: 'manual',
        signal: AbortSignal.timeout(60_000),
      });
      if (response.status !== 200) return false;
      const body = Buffer.from(await response.arrayBuffer());
      const length = Number(response.headers.get('content-length'));
      return (
        length === body.length && createHash('sha256').update(body).digest('hex') === command.sha256
      );
    } catch {
      return false;
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
