import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { download, type DownloadOptions } from '../../src/agent/resumable-download.js';
import { OtaFailure } from '../../src/agent/ota-reasons.js';
import { verifyPackage } from '../../src/agent/verify-package.js';
import { FIXTURE, FIXTURE_SHA256, installCommand, signingKeys } from './helpers/fixture.js';
import {
  PackageServer,
  sendCut,
  sendRanged,
  sendWhole,
  type Behaviour,
} from './helpers/package-server.js';

const SIZE = FIXTURE.length; // 20,384 bytes (shared/fixtures/tapk/README.md)
const CUT = 8000;

let dir: string;
let server: PackageServer | null = null;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tiota-dl-'));
});
afterEach(async () => {
  await server?.close();
  server = null;
  await rm(dir, { recursive: true, force: true });
});

/** Runs a download against `behaviour`, recording the largest the file ever was. */
async function run(behaviour: Behaviour, options: Partial<DownloadOptions> = {}) {
  server = await PackageServer.start(behaviour);
  const file = path.join(dir, 'package.part');
  let largest = 0;
  const result = await download({
    url: `${server.url}/d/token`,
    file,
    expectedSize: SIZE,
    backoff: { baseMs: 10, maxMs: 20 },
    onProgress: () => {
      largest = Math.max(largest, statSync(file).size);
    },
    ...options,
  });
  largest = Math.max(largest, (await stat(file)).size);
  return { result, file, largest, requests: server.requests };
}

function expectWellFormedRanges(requests: { range: string | undefined }[]): void {
  for (const { range } of requests) {
    if (range === undefined) continue;
    const match = /^bytes=(\d+)-(\d*)$/.exec(range);
    expect(match, `Range "${range}"`).not.toBeNull();
    if (match![2]) expect(Number(match![2])).toBeGreaterThanOrEqual(Number(match![1]));
  }
}

describe('resumable download', () => {
  it('resumes with Range after a drop and starts over when the answer is a 200 with the whole body', async () => {
    const { result, file, largest, requests } = await run((req, res, n) =>
      n === 0 ? sendCut(res, FIXTURE, CUT) : sendWhole(res, FIXTURE),
    );
    expect(requests.map((r) => r.range)).toEqual([undefined, `bytes=${CUT}-${SIZE - 1}`]);
    expect(requests[1].ifRange).toBe('"v1"');
    expect(await readFile(file)).toEqual(FIXTURE);
    expect(largest).toBeLessThanOrEqual(SIZE);
    expect(result).toMatchObject({ bytes: SIZE, http: 200, resumed: false, attempts: 2 });
  });

  it('appends a correct 206 at its offset', async () => {
    const { result, file, largest, requests } = await run((req, res, n) =>
      n === 0 ? sendCut(res, FIXTURE, CUT) : sendRanged(req, res, FIXTURE),
    );
    expect(requests.map((r) => r.range)).toEqual([undefined, `bytes=${CUT}-${SIZE - 1}`]);
    expect(await readFile(file)).toEqual(FIXTURE);
    expect(largest).toBeLessThanOrEqual(SIZE);
    expect(result).toMatchObject({ bytes: SIZE, http: 206, resumed: true });
  });

  it('starts again, without Range, when a 206 begins at another offset', async () => {
    const wrongStart = CUT - 1000;
    const { file, largest, requests } = await run((req, res, n) => {
      if (n === 0) return sendCut(res, FIXTURE, CUT);
      if (n === 1) {
        const part = FIXTURE.subarray(wrongStart);
        res.writeHead(206, {
          'content-length': part.length,
          'content-range': `bytes ${wrongStart}-${SIZE - 1}/${SIZE}`,
        });
        return res.end(part);
      }
      sendRanged(req, res, FIXTURE);
    });
    expect(requests.map((r) => r.range)).toEqual([
      undefined,
      `bytes=${CUT}-${SIZE - 1}`,
      undefined,
    ]);
    expect(await readFile(file)).toEqual(FIXTURE);
    expect(largest).toBeLessThanOrEqual(SIZE);
  });

  it('asks an open-ended range when the server never said the total', async () => {
    const { file, requests } = await run((req, res, n) => {
      if (n === 0) {
        // Chunked (no Content-Length), cut before the terminating chunk.
        res.writeHead(200, { 'transfer-encoding': 'chunked' });
        res.write(FIXTURE.subarray(0, CUT), () => setTimeout(() => res.socket?.destroy(), 20));
        return;
      }
      sendRanged(req, res, FIXTURE);
    });
    expect(requests[1].range).toBe(`bytes=${CUT}-`);
    expect(await readFile(file)).toEqual(FIXTURE);
    expectWellFormedRanges(requests);
  });

  it('reads a chunked body to its end', async () => {
    const { result, file, requests } = await run((req, res) => {
      res.writeHead(200, { 'transfer-encoding': 'chunked' });
      for (let i = 0; i < SIZE; i += 1000) res.write(FIXTURE.subarray(i, i + 1000));
      res.end();
    });
    expect(requests).toHaveLength(1);
    expect(result.bytes).toBe(SIZE);
    expect(await readFile(file)).toEqual(FIXTURE);
  });

  it('fails with body_short when every body ends before its Content-Length', async () => {
    const error = await run((req, res) => sendCut(res, FIXTURE, CUT), { maxAttempts: 3 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OtaFailure);
    expect(error).toMatchObject({ reason: 'body_short', code: -1 });
    expect(server!.requests).toHaveLength(3);
  });

  it('takes an empty 200 as complete, and the verifier calls it a hash failure', async () => {
    const { result, file } = await run((req, res) => {
      res.writeHead(200, { 'content-length': 0 });
      res.end();
    });
    expect(result.bytes).toBe(0);
    const cmd = installCommand(signingKeys(), 'http://x/d/t');
    expect(cmd.sha256).toBe(FIXTURE_SHA256);
    await expect(verifyPackage(file, cmd)).rejects.toMatchObject({
      reason: 'sha256_mismatch',
      code: -5,
    });
  });

  it('refuses a body larger than the commanded size without writing it', async () => {
    const bigger = Buffer.concat([FIXTURE, Buffer.alloc(10)]);
    const file = path.join(dir, 'package.part');
    await expect(run((req, res) => sendWhole(res, bigger))).rejects.toMatchObject({
      reason: 'size_exceeded',
      code: -4,
    });
    expect((await stat(file)).size).toBe(0);
  });

  it('never writes past the size when a chunked body runs long', async () => {
    const file = path.join(dir, 'package.part');
    await expect(
      run((req, res) => {
        res.writeHead(200, { 'transfer-encoding': 'chunked' });
        res.write(FIXTURE);
        res.end(Buffer.alloc(100));
      }),
    ).rejects.toMatchObject({ reason: 'size_exceeded' });
    expect((await stat(file)).size).toBeLessThanOrEqual(SIZE);
  });

  it('waits out a 503 with Retry-After, then downloads', async () => {
    const started = Date.now();
    const { file, requests } = await run((req, res, n) => {
      if (n === 0) {
        res.writeHead(503, { 'retry-after': '1' });
        return res.end();
      }
      sendWhole(res, FIXTURE);
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(requests).toHaveLength(2);
    expect(await readFile(file)).toEqual(FIXTURE);
  });

  it('reports a 404 at once, with its status, and follows no redirect', async () => {
    for (const status of [404, 302]) {
      const error = await run((req, res) => {
        res.writeHead(status, { location: '/elsewhere' });
        res.end();
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({ reason: 'http_status', code: -1, extra: { http: status } });
      expect(server!.requests.map((r) => r.url)).toEqual(['/d/token']);
      await server!.close();
      server = null;
    }
  });

  it('keeps every Range well formed over many random drops', async () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const { file, largest, requests } = await run(
      (req, res) => {
        // A server that honours ranges but cuts most responses at a random point.
        const match = /^bytes=(\d+)-/.exec(req.headers.range ?? '');
        const start = match ? Number(match[1]) : 0;
        if (random() < 0.7) {
          const keep = Math.floor(random() * (SIZE - start));
          if (start === 0) return sendCut(res, FIXTURE, keep);
          res.writeHead(206, {
            'content-length': SIZE - start,
            'content-range': `bytes ${start}-${SIZE - 1}/${SIZE}`,
          });
          res.write(FIXTURE.subarray(start, start + keep), () =>
            setTimeout(() => res.socket?.destroy(), 5),
          );
          return;
        }
        sendRanged(req, res, FIXTURE);
      },
      { maxAttempts: 60 },
    );
    expect(await readFile(file)).toEqual(FIXTURE);
    expect(largest).toBeLessThanOrEqual(SIZE);
    expect(requests.length).toBeGreaterThan(1);
    expectWellFormedRanges(requests);
  });
});
