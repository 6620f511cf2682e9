import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstallCommand } from '../../src/shared/protocol/index.js';
import { FIXTURE_TAPK } from '../support/fixture.js';
import { eventually, TestDevice } from '../support/mqtt-device.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { TEST_DATABASES } from '../support/test-databases.js';

/** Issue 8, done when: a revoked device is cut off from the broker and from downloads. */
describe.each(TEST_DATABASES)('device revocation on %s', (database) => {
  let server: TestServer;
  let packageId: number;

  beforeAll(async () => {
    server = await startTestServer({ database });
    const response = await fetch(
      `${server.httpUrl}/api/v1/packages?version=3.0.0&fileName=app.tapk`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${server.token}`,
          'content-type': 'application/octet-stream',
        },
        body: await readFile(FIXTURE_TAPK),
      },
    );
    packageId = ((await response.json()) as { id: number }).id;
  });
  afterAll(() => server?.stop());

  it('disconnects the device, refuses its reconnect and its download URL', async () => {
    const creds = (await server.api('POST', '/devices', { deviceId: 'rev-1' })).body;
    const device = await TestDevice.connect(creds, { app: 'tijos-http-ota', version: '1.0.0' });
    await server.api('POST', '/rollouts', { packageId, target: { devices: ['rev-1'] } });
    const command = (await device.nthCommand(1)) as InstallCommand;
    expect((await fetch(command.url, { method: 'HEAD' })).status).toBe(200);

    const closed = new Promise<void>((resolve) => device.client.once('close', () => resolve()));
    const revoked = await server.api('POST', '/devices/rev-1/revoke');
    expect(revoked.body.revoked).toBe(true);
    await closed;
    expect(device.client.connected).toBe(false);

    // CONNACK 4 or 5 (bad credentials / not authorized): the broker never lets it back in.
    await expect(TestDevice.connect(creds)).rejects.toThrow();
    const download = await fetch(command.url);
    expect(download.status).toBe(403);
    expect(await download.text()).toMatch(/revoked/);
    await device.close().catch(() => undefined);
  });

  it('keeps a revoked device out of new rollouts and audits the revocation', async () => {
    await server.api('POST', '/devices', { deviceId: 'rev-2' });
    await server.api('POST', '/devices/rev-2/revoke');
    const rollout = await server.api('POST', '/rollouts', {
      packageId,
      target: { devices: ['rev-2'] },
    });
    expect(rollout.status).toBe(422);
    const audit = await server.api('GET', '/audit?action=device.revoke');
    expect(audit.body.entries.map((e: any) => e.target)).toEqual(
      expect.arrayContaining(['device:rev-1', 'device:rev-2']),
    );
  });

  it('rotates a device secret: the old one is cut off, the new one works', async () => {
    const creds = (await server.api('POST', '/devices', { deviceId: 'rot-1' })).body;
    const device = await TestDevice.connect(creds, { app: 'a', version: '1' });
    const closed = new Promise<void>((resolve) => device.client.once('close', () => resolve()));
    const rotated = await server.api('POST', '/devices/rot-1/credentials');
    expect(rotated.status).toBe(200);
    expect(rotated.body.password).not.toBe(creds.password);
    expect(rotated.body.signingPublicKey).toBe(creds.signingPublicKey);
    await closed;
    await expect(TestDevice.connect(creds)).rejects.toThrow();
    const again = await TestDevice.connect(rotated.body, { app: 'a', version: '1' });
    expect((await server.api('GET', '/devices/rot-1')).body.revoked).toBe(false);
    await again.close();
    await device.close().catch(() => undefined);
    expect((await server.api('POST', '/devices/rev-2/credentials')).status).toBe(409);
  });

  it('leaves other devices connected and downloading', async () => {
    const creds = (await server.api('POST', '/devices', { deviceId: 'rev-3' })).body;
    const device = await TestDevice.connect(creds, { app: 'tijos-http-ota', version: '1.0.0' });
    await server.api('POST', '/devices', { deviceId: 'rev-4' });
    await server.api('POST', '/devices/rev-4/revoke');
    await server.api('POST', '/rollouts', { packageId, target: { devices: ['rev-3'] } });
    const command = (await device.nthCommand(1)) as InstallCommand;
    expect((await fetch(command.url)).status).toBe(200);
    await eventually(async () => device.client.connected, 2000, 'still connected');
    await device.close();
  });
});
