import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import Fastify from 'fastify';
import { afterAll, expect, it } from 'vitest';

import { createDownloadHandler } from '../../src/server/download/index.js';
import { signDownloadToken } from '../../src/shared/token/download-token.js';
import { FIXTURE_ID, fetchRaw, makeFiles, sha256, T0 } from './download-test-server.js';

const { files, removeFiles } = makeFiles();
afterAll(removeFiles);

// The wiring documented on createDownloadHandler, with a real Fastify app behind the front.
it('serves downloads and hands everything else to a Fastify app that never listens', async () => {
  const secret = Buffer.alloc(32, 3);
  const downloads = createDownloadHandler({
    keyring: { secret: (id) => (id === 1 ? secret : undefined) },
    nowMs: () => T0 * 1000,
    skewSeconds: 60,
    resolvePackage: async (id) => files.get(id),
    isDeviceRevoked: () => false,
    limits: { maxInFlight: 10, maxInFlightPerPackage: 10, retryAfterSeconds: 5 },
    log: { info() {}, warn() {}, error() {} },
  });
  const app = Fastify({
    serverFactory: (fastifyHandler) =>
      createServer((req, res) =>
        req.url?.startsWith('/d/') ? downloads.handle(req, res) : fastifyHandler(req, res),
      ),
  });
  app.get('/healthz', async () => ({ ok: true }));
  await app.ready();
  const front = downloads.createFrontServer(app.server);
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const { port } = front.address() as AddressInfo;

  try {
    const grant = { keyId: 1, packageId: FIXTURE_ID, deviceRowId: 1, actionId: 1 };
    const token = signDownloadToken({ ...grant, notBefore: T0, expiresAt: T0 + 60 }, secret);

    const download = await fetchRaw(port, `/d/${token}`);
    expect(sha256(download.body)).toBe(files.get(FIXTURE_ID)!.sha256);
    const health = await fetchRaw(port, '/healthz');
    expect(JSON.parse(health.body.toString())).toEqual({ ok: true });
    // Not a plain download: handed to Node, answered by the same handler there.
    expect((await fetchRaw(port, `/d/${token}`, { method: 'POST' })).status).toBe(405);
  } finally {
    front.close();
    front.closeAllConnections();
    await app.close();
    downloads.close();
  }
});
