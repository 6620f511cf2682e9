import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_TAPK } from '../support/fixture.js';
import { eventually, TestDevice } from '../support/mqtt-device.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

/** Regression: a device already on the target version was sent a command and timed out. */
describe('devices already running the target version', () => {
  let server: TestServer;
  let packageId: number;
  const devices: TestDevice[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    const res = await fetch(`${server.httpUrl}/api/v1/packages?version=2.0.0&fileName=a.tapk`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${server.token}`,
        'content-type': 'application/octet-stream',
      },
      body: await readFile(FIXTURE_TAPK),
    });
    packageId = (await res.json()).id;
    for (const [id, version] of [
      ['cur-1', '2.0.0'],
      ['old-1', '1.0.0'],
    ]) {
      const creds = (await server.api('POST', '/devices', { deviceId: id, tags: ['cur'] })).body;
      devices.push(await TestDevice.connect(creds, { app: 'tijos-http-ota', version }));
    }
    await eventually(
      async () => (await server.api('GET', '/devices/cur-1')).body.version === '2.0.0',
      5000,
      'hello recorded',
    );
  });
  afterAll(async () => {
    for (const d of devices) await d.close();
    await server?.stop();
  });

  it('are left out of the plan and of the rollout', async () => {
    const dry = await server.api('POST', '/rollouts', {
      packageId,
      target: { tags: ['cur'] },
      dryRun: true,
    });
    expect(dry.status).toBe(200);
    expect(dry.body.devices).toBe(1);
    const only = await server.api('POST', '/rollouts', {
      packageId,
      target: { devices: ['cur-1'] },
    });
    expect(only.status).toBe(422);
    expect(only.body.error.code).toBe('no_devices');
  });
});
