import {
  cmdTopic,
  type DeviceCommand,
  type InstallCommand,
} from '../../src/shared/protocol/index.js';
import { TestDevice } from '../support/mqtt-device.js';
import type { TestServer } from '../support/test-server.js';

export interface DeviceBehaviour {
  /** Held until this resolves before acting on a command (to pause a rollout mid-batch). */
  readonly gate?: Promise<void>;
  /** The OTA app fails to write the app (TiJOS OTA code -4) and the old app keeps running. */
  readonly failWrite?: boolean;
}

const APP = { app: 'tijos-http-ota', appId: 1, profile: 'tijos' };

/**
 * A TiJOS device as the HTTP OTA guide describes it, over a real MQTT connection: the user app
 * reports "downloading" and starts the OTA app, which GETs the URL and installs; the device
 * restarts and the new app says hello with its version. Commands are handled once by id, since
 * the server's command is retained and comes again on every reconnect.
 */
export class SimulatedTijosDevice {
  readonly #handled = new Set<string>();
  #link: TestDevice | null = null;

  private constructor(
    readonly id: string,
    private readonly creds: { deviceId: string; password: string; mqttUrl: string },
    private readonly behaviour: DeviceBehaviour,
  ) {}

  static async start(
    server: TestServer,
    id: string,
    tags: string[],
    behaviour: DeviceBehaviour = {},
  ): Promise<SimulatedTijosDevice> {
    const registered = await server.api('POST', '/devices', { deviceId: id, tags });
    if (registered.status !== 201) throw new Error(`registering ${id}: ${registered.status}`);
    const device = new SimulatedTijosDevice(id, registered.body, behaviour);
    await device.#connect('1.0.0');
    return device;
  }

  async close(): Promise<void> {
    await this.#link?.close();
    this.#link = null;
  }

  async #connect(version: string): Promise<void> {
    const link = await TestDevice.connect(this.creds);
    link.client.on('message', (topic, payload) => {
      if (topic !== cmdTopic(this.id)) return;
      const command = JSON.parse(payload.toString()) as DeviceCommand;
      if (command.op !== 'install' || this.#handled.has(command.id)) return;
      this.#handled.add(command.id);
      void this.#install(command).catch((error: unknown) => {
        console.error(`${this.id}: simulated install failed`, error);
      });
    });
    this.#link = link;
    await link.hello({ ...APP, version });
  }

  async #install(command: InstallCommand): Promise<void> {
    await this.behaviour.gate;
    const link = this.#link!;
    await link.status({ cmd: command.id, state: 'downloading' });
    const response = await fetch(command.url);
    if (response.status !== 200) throw new Error(`download answered ${response.status}`);
    await response.arrayBuffer();

    if (this.behaviour.failWrite) {
      await link.status({
        cmd: command.id,
        state: 'failed',
        code: -4,
        detail: 'could not write the app',
      });
      return;
    }
    await link.status({ cmd: command.id, state: 'installing' });
    await link.status({ cmd: command.id, state: 'restarting' });
    await this.close();
    await this.#connect(command.version);
  }
}
