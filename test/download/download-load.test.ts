import { request, type ClientRequest, type IncomingMessage } from 'node:http';

import { afterAll, afterEach, describe, expect, it } from 'vitest';

import {
  BIG_ID,
  FIXTURE_ID,
  MIB_ID,
  fetchRaw,
  makeFiles,
  metric,
  startServer,
  TRANSPORTS,
  waitFor,
  type TestServer,
} from './download-test-server.js';

const { files, removeFiles } = makeFiles();
afterAll(removeFiles);

const BIG_SIZE = 64 * 1024 * 1024;

/** A device on a very slow link: it takes the headers, then stops reading. */
interface SlowReader {
  readonly res: IncomingMessage;
  readonly req: ClientRequest;
  /** Reads the rest and resolves with the body length. */
  drain(): Promise<number>;
}

function slowReader(port: number, path: string): Promise<SlowReader> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.pause();
      resolve({
        res,
        req,
        drain: () =>
          new Promise((done, fail) => {
            let n = 0;
            res.on('data', (c: Buffer) => (n += c.length));
            res.on('end', () => done(n));
            res.on('error', fail);
            res.resume();
          }),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

let s: TestServer | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

describe.each(TRANSPORTS)('download caps over %s', (transport) => {
  it('answers 503 with Retry-After above the server-wide cap, and counts it', async () => {
    s = await startServer(
      files,
      {
        limits: { maxInFlight: 2, maxInFlightPerPackage: 10, retryAfterSeconds: 7 },
      },
      transport,
    );
    const held = [
      await slowReader(s.port, s.path({ packageId: BIG_ID })),
      await slowReader(s.port, s.path({ packageId: BIG_ID, deviceRowId: 8 })),
    ];
    expect(s.handler.inFlight).toBe(2);
    expect(await metric(s.registry, 'tiota_downloads_in_flight')).toBe(2);

    const refused = await fetchRaw(s.port, s.path({ packageId: FIXTURE_ID }));
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('7');
    expect(JSON.parse(refused.body.toString()).error.code).toBe('overloaded');
    expect(await metric(s.registry, 'tiota_download_overloaded_total{cap="server"}')).toBe(1);

    // HEAD sends no body, so it takes no slot and is still answered.
    const head = await fetchRaw(s.port, s.path(), { method: 'HEAD' });
    expect(head.status).toBe(200);

    // The admitted downloads are not harmed: each still receives every byte.
    expect(await Promise.all(held.map((r) => r.drain()))).toEqual([BIG_SIZE, BIG_SIZE]);
    await waitFor(() => s!.handler.inFlight === 0);
    expect((await fetchRaw(s.port, s.path())).status).toBe(200);
  });

  it('answers 503 above the per-package cap while other packages still download', async () => {
    s = await startServer(
      files,
      { limits: { maxInFlight: 10, maxInFlightPerPackage: 1, retryAfterSeconds: 3 } },
      transport,
    );
    const held = await slowReader(s.port, s.path({ packageId: BIG_ID }));

    const same = await fetchRaw(s.port, s.path({ packageId: BIG_ID, deviceRowId: 8 }));
    const other = await fetchRaw(s.port, s.path({ packageId: MIB_ID }));

    expect(same.status).toBe(503);
    expect(same.headers['retry-after']).toBe('3');
    expect(other.status).toBe(200);
    expect(await metric(s.registry, 'tiota_download_overloaded_total{cap="package"}')).toBe(1);
    expect(s.logs.some((l) => l.level === 'warn' && l.code === 'overloaded')).toBe(true);
    held.req.destroy();
  });

  it('cuts a download that stopped moving, freeing its slot', async () => {
    s = await startServer(
      files,
      {
        limits: {
          maxInFlight: 1,
          maxInFlightPerPackage: 1,
          retryAfterSeconds: 1,
          stallTimeoutMs: 300,
        },
      },
      transport,
    );
    const held = await slowReader(s.port, s.path({ packageId: BIG_ID }));
    expect((await fetchRaw(s.port, s.path())).status).toBe(503);

    await waitFor(() => s!.handler.inFlight === 0);
    const cut = new Promise((resolve) => held.res.on('close', resolve));
    held.res.resume();
    await cut;
    expect(held.res.complete).toBe(false);

    expect((await fetchRaw(s.port, s.path())).status).toBe(200);
    const event = s.events.find((e) => e.grant.packageId === BIG_ID)!;
    expect(event.complete).toBe(false);
    expect(event.bytes).toBeGreaterThan(0);
    expect(event.bytes).toBeLessThan(BIG_SIZE);
  });
});
