import { request } from 'node:http';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

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

/** Downloads until `bytes` arrived, then drops the connection (a device losing its link). */
function cutAfter(port: number, path: string, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => {
        n += c.length;
        if (n >= bytes) req.destroy();
      });
      res.on('close', () => resolve(n));
    });
    req.on('error', (err) => (err.message === 'socket hang up' ? undefined : reject(err)));
    req.end();
  });
}

describe.each(TRANSPORTS)('download accounting over %s', (transport) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer(files, {}, transport);
  });
  afterAll(() => s.close());
  beforeEach(() => {
    s.events.length = 0;
  });

  it.each([
    { name: 'the tapk fixture', id: FIXTURE_ID },
    { name: 'a 1 MiB file', id: MIB_ID },
  ])('reports one complete event for a full download of $name', async ({ id }) => {
    const size = files.get(id)!.size;
    await fetchRaw(s.port, s.path({ packageId: id, deviceRowId: 40, actionId: 41 }));
    await waitFor(() => s.events.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(s.events).toEqual([
      {
        grant: expect.objectContaining({ packageId: id, deviceRowId: 40, actionId: 41 }),
        bytes: size,
        complete: true,
        status: 200,
      },
    ]);
  });

  it('reports complete exactly once when two ranges make up the file', async () => {
    const size = files.get(MIB_ID)!.size;
    const path = s.path({ packageId: MIB_ID, deviceRowId: 50 });
    await fetchRaw(s.port, path, { headers: { Range: 'bytes=0-99999' } });
    await fetchRaw(s.port, path, { headers: { Range: 'bytes=100000-' } });
    await fetchRaw(s.port, path, { method: 'HEAD' });
    await waitFor(() => s.events.length === 2);

    expect(s.events.map((e) => [e.status, e.bytes, e.complete])).toEqual([
      [206, 100000, false],
      [206, size - 100000, true],
    ]);
  });

  it('counts a cut download, and completes it when the device resumes with Range', async () => {
    const size = files.get(BIG_ID)!.size;
    const path = s.path({ packageId: BIG_ID, deviceRowId: 60 });
    const received = await cutAfter(s.port, path, 1024 * 1024);
    await waitFor(() => s.events.length === 1);
    const cut = s.events[0];
    expect(cut).toMatchObject({ status: 200, complete: false });
    expect(cut.bytes).toBeGreaterThan(0);
    expect(cut.bytes).toBeLessThan(size);

    // The server counts what it handed to the network, at least what the device holds.
    expect(cut.bytes).toBeGreaterThanOrEqual(received);
    const resumed = await fetchRaw(s.port, path, { headers: { Range: `bytes=${received}-` } });
    expect(resumed.status).toBe(206);
    await waitFor(() => s.events.length === 2);
    expect(s.events[1]).toMatchObject({ status: 206, bytes: size - received, complete: true });
  });

  it('adds bytes and completions to the metrics', async () => {
    const bytes = (await metric(s.registry, 'tiota_download_bytes_sent_total')) ?? 0;
    const done = (await metric(s.registry, 'tiota_downloads_completed_total')) ?? 0;
    await fetchRaw(s.port, s.path());
    await waitFor(() => s.events.length === 1);

    const size = files.get(FIXTURE_ID)!.size;
    expect(await metric(s.registry, 'tiota_download_bytes_sent_total')).toBe(bytes + size);
    expect(await metric(s.registry, 'tiota_downloads_completed_total')).toBe(done + 1);
  });
});
