import { readFile } from 'node:fs/promises';
import { expect } from 'vitest';
import type { HelloMessage, InstallCommand } from '../../../src/shared/protocol/index.js';
import { FIXTURE_TAPK } from '../../support/fixture.js';
import { eventually, TestDevice } from '../../support/mqtt-device.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';

export const APP = 'tijos-http-ota';

export interface Credentials {
  readonly deviceId: string;
  readonly password: string;
  readonly mqttUrl: string;
}

/**
 * A real server (in this process, on free ports) with the fixture uploaded as versions 2.0.0
 * and 3.0.0, and helpers to drive bare MQTT devices through the TiJOS flow by hand.
 */
export class RolloutLab {
  readonly creds = new Map<string, Credentials>();
  readonly packages = new Map<string, number>();

  private constructor(readonly server: TestServer) {}

  static async start(database: 'sqlite' | 'postgres'): Promise<RolloutLab> {
    const lab = new RolloutLab(await startTestServer({ database }));
    for (const version of ['2.0.0', '3.0.0']) await lab.upload(version);
    return lab;
  }

  /** Uploads the fixture as `version` of the app; returns the package id. */
  async upload(version: string): Promise<number> {
    const res = await fetch(
      `${this.server.httpUrl}/api/v1/packages?version=${version}&fileName=ota.tapk`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.server.token}`,
          'content-type': 'application/octet-stream',
        },
        body: await readFile(FIXTURE_TAPK),
      },
    );
    expect(res.status).toBe(201);
    const id = ((await res.json()) as { id: number }).id;
    this.packages.set(version, id);
    return id;
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  async register(ids: string[]): Promise<void> {
    for (const id of ids) {
      const res = await this.server.api('POST', '/devices', { deviceId: id });
      expect(res.status).toBe(201);
      this.creds.set(id, res.body as Credentials);
    }
  }

  /** Connects a device that says hello running `version`, and waits until the server knows. */
  async connect(
    id: string,
    version = '1.0.0',
    more: Partial<HelloMessage> = {},
  ): Promise<TestDevice> {
    const device = await TestDevice.connect(this.creds.get(id)!, {
      app: APP,
      version,
      appId: 1,
      profile: 'tijos',
      ...more,
    });
    await eventually(
      async () => {
        const view = (await this.server.api('GET', `/devices/${id}`)).body;
        return view.online && view.version === version;
      },
      5000,
      `${id} online`,
    );
    return device;
  }

  async connectAll(ids: string[], version = '1.0.0'): Promise<Map<string, TestDevice>> {
    return new Map(
      await Promise.all(ids.map(async (id) => [id, await this.connect(id, version)] as const)),
    );
  }

  /** Creates a rollout of `version` to `devices`; returns its id. */
  async rollout(
    version: string,
    devices: string[],
    settings: Record<string, unknown>,
  ): Promise<number> {
    const res = await this.server.api('POST', '/rollouts', {
      packageId: this.packages.get(version),
      target: { devices },
      settings,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as number;
  }

  async view(id: number): Promise<any> {
    return (await this.server.api('GET', `/rollouts/${id}`)).body;
  }

  async until(
    id: number,
    check: (view: any) => boolean,
    what: string,
    timeoutMs = 10_000,
  ): Promise<any> {
    return eventually(
      async () => {
        const view = await this.view(id);
        return check(view) ? view : null;
      },
      timeoutMs,
      what,
    );
  }

  /**
   * What a TiJOS device does with an install command: the OTA app fetches the URL (the server
   * sees the whole body go out), installs, and the device restarts. It comes back running
   * `comesBackOn` — the new version, or the old one when the new app failed.
   */
  async install(
    device: TestDevice,
    command: InstallCommand,
    comesBackOn: string,
  ): Promise<TestDevice> {
    const res = await fetch(command.url);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    await eventually(
      async () => (await this.action(command.id)).state === 'downloaded',
      5000,
      `${device.id} downloaded`,
    );
    return this.restart(device, comesBackOn);
  }

  /** Drops the connection (as a reboot does: the last will fires) and connects again. */
  async restart(
    device: TestDevice,
    version: string,
    more: Partial<HelloMessage> = {},
  ): Promise<TestDevice> {
    await device.close();
    return this.connect(device.id, version, more);
  }

  /**
   * An action as its rollout's device list shows it: the one a command id (`a17.1`) names, or
   * the newest one of a device.
   */
  async action(deviceOrCommand: string): Promise<any> {
    const actionId = /^a(\d+)\.\d+$/.exec(deviceOrCommand)?.[1];
    const rollouts = (await this.server.api('GET', '/rollouts')).body.rollouts as { id: number }[];
    for (const r of rollouts) {
      const { devices } = (await this.server.api('GET', `/rollouts/${r.id}/devices`)).body;
      const mine = devices.find((d: any) =>
        actionId ? d.id === Number(actionId) : d.deviceId === deviceOrCommand,
      );
      if (mine) return mine;
    }
    return {};
  }
}

export async function installCommand(device: TestDevice, n: number): Promise<InstallCommand> {
  const command = await device.nthCommand(n);
  expect(command.op).toBe('install');
  return command as InstallCommand;
}

/** Settings that make small tests fast: no canary, no soak, fixed batches of `batchSize`. */
export function quick(settings: Record<string, unknown> = {}): Record<string, unknown> {
  return { canary: 0, batchStrategy: 'fixed', soakSeconds: 0, ...settings };
}
