import mqtt, { type MqttClient } from 'mqtt';
import {
  cmdTopic,
  helloTopic,
  statusTopic,
  type DeviceCommand,
  type HelloMessage,
  type StatusMessage,
} from '../../src/shared/protocol/index.js';

/**
 * A bare MQTT device for protocol tests: it subscribes to its commands before saying hello
 * (docs/protocol.md, "Connecting") and records every command it receives.
 */
export class TestDevice {
  readonly commands: DeviceCommand[] = [];
  #waiters: (() => void)[] = [];

  private constructor(
    readonly id: string,
    readonly client: MqttClient,
  ) {
    client.on('message', (topic, payload) => {
      if (topic !== cmdTopic(id)) return;
      this.commands.push(JSON.parse(payload.toString()) as DeviceCommand);
      this.#waiters.splice(0).forEach((w) => w());
    });
  }

  static async connect(
    creds: { deviceId: string; password: string; mqttUrl: string },
    hello?: HelloMessage,
  ): Promise<TestDevice> {
    const client = await mqtt.connectAsync(creds.mqttUrl, {
      username: creds.deviceId,
      password: creds.password,
      clientId: `test-${creds.deviceId}`,
      clean: true,
      reconnectPeriod: 0,
      will: {
        topic: `tiota/v1/d/${creds.deviceId}/presence`,
        payload: Buffer.from('{"online":false}'),
        qos: 1,
        retain: false,
      },
    });
    const device = new TestDevice(creds.deviceId, client);
    await client.subscribeAsync(cmdTopic(creds.deviceId), { qos: 1 });
    if (hello) await device.hello(hello);
    return device;
  }

  async hello(hello: HelloMessage): Promise<void> {
    await this.client.publishAsync(helloTopic(this.id), JSON.stringify(hello), { qos: 1 });
  }

  async status(status: StatusMessage): Promise<void> {
    await this.client.publishAsync(statusTopic(this.id), JSON.stringify(status), { qos: 1 });
  }

  /** Resolves with the n-th command (1-based) once it has arrived. */
  async nthCommand(n: number, timeoutMs = 10_000): Promise<DeviceCommand> {
    const deadline = Date.now() + timeoutMs;
    while (this.commands.length < n) {
      if (Date.now() > deadline) throw new Error(`${this.id}: command ${n} did not arrive`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
    return this.commands[n - 1];
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/** Polls `check` until it returns a truthy value. */
export async function eventually<T>(
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
