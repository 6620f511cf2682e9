import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstallCommand } from '../../src/shared/protocol/index.js';
import { FIXTURE_TAPK } from '../support/fixture.js';
import { eventually, TestDevice } from '../support/mqtt-device.js';
import { rolloutCompleted, startTestServer, type TestServer } from '../support/test-server.js';

/** The TiJOS flow of DESIGN.md "The flow it serves", driven by a bare MQTT device. */
describe.each(['sqlite', 'postgres'] as const)('deploy flow on %s', (database) => {
  let server: TestServer;
  let fixture: Buffer;
  let packageId: number;

  beforeAll(async () => {
    server = await startTestServer({ database });
    fixture = await readFile(FIXTURE_TAPK);
    const upload = await fetch(
      `${server.httpUrl}/api/v1/packages?version=2.0.0&fileName=tijos-http-ota.tapk`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${server.token}`,
          'content-type': 'application/octet-stream',
        },
        body: fixture,
      },
    );
    expect(upload.status).toBe(201);
    packageId = (await upload.json()).id;
  });
  afterAll(() => server?.stop());

  async function register(id: string) {
    const res = await server.api('POST', '/devices', { deviceId: id, tags: ['lab'] });
    expect(res.status).toBe(201);
    return res.body as { deviceId: string; password: string; mqttUrl: string };
  }

  it('counts a device upgraded only after it reports the new version after restarting', async () => {
    const creds = await register('flow-1');
    const device = await TestDevice.connect(creds, {
      app: 'tijos-http-ota',
      version: '1.0.0',
      appId: 1,
      profile: 'tijos',
    });
    await eventually(
      async () => (await server.api('GET', '/devices/flow-1')).body.version === '1.0.0',
      5000,
      'hello recorded',
    );

    const rollout = await server.api('POST', '/rollouts', {
      packageId,
      target: { devices: ['flow-1'] },
    });
    expect(rollout.status).toBe(201);
    const command = (await device.nthCommand(1)) as InstallCommand;
    expect(command).toMatchObject({ op: 'install', version: '2.0.0', size: fixture.length });
    expect(command.sha256).toBe(createHash('sha256').update(fixture).digest('hex'));
    // DESIGN: "<oldAppId> <url>" with a 4-digit app id stays under 128 characters, no space.
    expect(`1234 ${command.url}`.length).toBeLessThan(128);
    expect(command.url).not.toContain(' ');

    const download = await fetch(command.url);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-length')).toBe(String(fixture.length));
    expect(Buffer.from(await download.arrayBuffer()).equals(fixture)).toBe(true);

    await device.status({ cmd: command.id, state: 'installing' });
    await device.status({ cmd: command.id, state: 'restarting' });
    const before = await eventually(
      async () => {
        const r = (await server.api('GET', `/rollouts/${rollout.body.id}`)).body;
        return r.counts.restarting === 1 ? r : null;
      },
      5000,
      'restarting',
    );
    expect(before.counts.succeeded).toBe(0);
    expect((await server.api('GET', '/devices/flow-1')).body.version).toBe('1.0.0');

    await device.close();
    const again = await TestDevice.connect(creds, {
      app: 'tijos-http-ota',
      version: '2.0.0',
      appId: 2,
      profile: 'tijos',
    });
    const done = await rolloutCompleted(server.api, rollout.body.id, 5000);
    expect(done.counts.succeeded).toBe(1);
    expect((await server.api('GET', '/devices/flow-1')).body.version).toBe('2.0.0');
    await again.close();
  });

  it('marks a device that comes back on the old version after installing as rolled back', async () => {
    const creds = await register('flow-2');
    const device = await TestDevice.connect(creds, {
      app: 'tijos-http-ota',
      version: '1.0.0',
      profile: 'tijos',
    });
    const rollout = await server.api('POST', '/rollouts', {
      packageId,
      target: { devices: ['flow-2'] },
    });
    const command = (await device.nthCommand(1)) as InstallCommand;
    await (await fetch(command.url)).arrayBuffer();
    await eventually(
      async () =>
        (await server.api('GET', `/rollouts/${rollout.body.id}`)).body.counts.downloaded === 1,
      5000,
      'downloaded',
    );
    await device.close();
    const back = await TestDevice.connect(creds, {
      app: 'tijos-http-ota',
      version: '1.0.0',
      profile: 'tijos',
    });
    const done = await rolloutCompleted(server.api, rollout.body.id, 5000);
    expect(done.counts.rolled_back).toBe(1);
    expect(back.commands).toHaveLength(0);
    await back.close();
  });

  it('refuses a download token with one changed character', async () => {
    const creds = await register('flow-3');
    const device = await TestDevice.connect(creds, { app: 'tijos-http-ota', version: '1.0.0' });
    await server.api('POST', '/rollouts', { packageId, target: { devices: ['flow-3'] } });
    const command = (await device.nthCommand(1)) as InstallCommand;
    const token = command.url.slice(command.url.lastIndexOf('/') + 1);
    const i = 20;
    const changed = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
    const res = await fetch(command.url.replace(token, changed));
    expect(res.status).toBe(403);
    await device.close();
  });

  it('lets a device subscribe only to its own commands', async () => {
    const a = await register('acl-a');
    await register('acl-b');
    const device = await TestDevice.connect(a);
    // SUBACK 0x80 (failure) for another device's topic and for wildcards over all devices.
    await expect(device.client.subscribeAsync('tiota/v1/d/acl-b/cmd', { qos: 1 })).rejects.toThrow(
      /Subscribe error/,
    );
    await expect(device.client.subscribeAsync('tiota/v1/d/+/cmd', { qos: 1 })).rejects.toThrow(
      /Subscribe error/,
    );
    // Nor may it speak for device B.
    const bStatus = await server.api('GET', '/devices/acl-b');
    // QoS 0: the broker closes the connection of a device that publishes outside its subtree.
    await device.client
      .publishAsync('tiota/v1/d/acl-b/hello', JSON.stringify({ app: 'x', version: '9' }), {
        qos: 0,
      })
      .catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    expect((await server.api('GET', '/devices/acl-b')).body.version).toBe(bStatus.body.version);
    await device.close();
  });

  it('refuses MQTT connections with a wrong password', async () => {
    const creds = await register('acl-c');
    await expect(TestDevice.connect({ ...creds, password: 'wrong' })).rejects.toThrow();
  });
});
