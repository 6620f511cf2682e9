import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_TAPK } from '../support/fixture.js';
import { eventually } from '../support/mqtt-device.js';
import { callApi, createPgDatabase } from '../support/test-server.js';
import { TEST_DATABASES } from '../support/test-databases.js';
import { AutoDevice } from './helpers/auto-device.js';
import { freePort, ServerProcess } from './helpers/server-process.js';

const DEVICES = 30;

/**
 * Issue 4, done-when: `kill -9` of the server mid-rollout, then a restart on the same data and
 * ports; the rollout finishes with every device counted once. Needs the compiled CLI
 * (`npm test` builds first).
 */
describe.each(TEST_DATABASES)('a rollout surviving kill -9 on %s', (database) => {
  let work: string;
  let server: ServerProcess;
  let pg: { url: string; drop(): Promise<void> } | null = null;
  const devices: AutoDevice[] = [];

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'tiota-kill-'));
    pg = database === 'postgres' ? await createPgDatabase() : null;
    // The same replica coming back: it takes its own lease at once (issue 6 covers another
    // replica taking over after the lease expires).
    const extra = ['--replica-id', 'durability', ...(pg ? ['--database-url', pg.url] : [])];
    // Ports are picked free and kept across the restart; another process may take one in
    // the meantime, so a first start that finds its port taken tries new ones.
    for (let tries = 0; ; tries++) {
      server = new ServerProcess(
        path.join(work, 'data'),
        await freePort(),
        await freePort(),
        extra,
      );
      try {
        await server.start();
        return;
      } catch (error) {
        if (tries >= 2 || !/already in use/.test(String(error))) throw error;
      }
    }
  });

  afterAll(async () => {
    await Promise.all(devices.map((d) => d.stop()));
    await server?.kill();
    await pg?.drop();
    await rm(work, { recursive: true, force: true });
  });

  it('finishes after a kill -9 mid-batch with every device counted once', async () => {
    const token = await server.token();
    const api = (method: string, route: string, body?: unknown) =>
      callApi(server.httpUrl, token, method, route, body);
    const upload = await fetch(
      `${server.httpUrl}/api/v1/packages?version=2.0.0&fileName=ota.tapk`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
        body: await readFile(FIXTURE_TAPK),
      },
    );
    const packageId = (await upload.json()).id as number;

    const ids = Array.from({ length: DEVICES }, (_, i) => `k-${String(i).padStart(2, '0')}`);
    for (const id of ids) {
      const creds = (await api('POST', '/devices', { deviceId: id })).body;
      devices.push(new AutoDevice(creds, '1.0.0', { restartMs: 150 }));
    }
    devices.forEach((d) => d.start());
    await eventually(
      async () => (await api('GET', '/devices?online=true')).body.total === DEVICES,
      10_000,
      'all online',
    );

    const settings = {
      canary: 2,
      batchStrategy: 'fixed',
      batchSize: 10,
      soakSeconds: 0,
      successThreshold: 100,
      maxConcurrentDownloads: 3,
      ackTimeoutSeconds: 5,
      maxRetries: 3,
      retryBackoffSeconds: 0.2,
    };
    const created = await api('POST', '/rollouts', {
      packageId,
      target: { devices: ids },
      settings,
    });
    expect(created.status).toBe(201);
    const id = created.body.id as number;

    // Mid-batch: some devices upgraded, most not yet.
    await eventually(
      async () => (await api('GET', `/rollouts/${id}`)).body.counts.succeeded >= 8,
      20_000,
      'progress',
    );
    await server.kill('SIGKILL');
    const before = devices.filter((d) => d.version === '2.0.0').length;
    expect(before).toBeLessThan(DEVICES);

    await server.start();
    const done = await eventually(
      async () => {
        const view = (await api('GET', `/rollouts/${id}`)).body;
        return view.status === 'completed' ? view : null;
      },
      60_000,
      'rollout completed after the restart',
    );

    expect(done.counts.succeeded).toBe(DEVICES);
    const total = Object.values(done.counts as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(total).toBe(DEVICES);
    const actions = (await api('GET', `/rollouts/${id}/devices`)).body.devices as {
      deviceId: string;
      state: string;
    }[];
    expect(new Set(actions.map((a) => a.deviceId)).size).toBe(DEVICES);
    // Every device installed the package exactly once and runs it.
    for (const d of devices) {
      expect(d.version, d.creds.deviceId).toBe('2.0.0');
      expect(d.installs, d.creds.deviceId).toBe(1);
    }
  });
});
