import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  FIXTURE_ID,
  MIB_ID,
  fetchRaw,
  makeFiles,
  sha256,
  startServer,
  TRANSPORTS,
  type StoredFile,
  type TestServer,
} from './download-test-server.js';

const { files, removeFiles } = makeFiles();
afterAll(removeFiles);

// Every HTTP rule holds on both transports, and whether a body is served from the memory
// cache or streamed from disk.
describe.each(
  TRANSPORTS.flatMap((transport) => [
    { transport, source: 'memory', cache: {} },
    { transport, source: 'disk', cache: { memoryBytes: 0 } },
  ]),
)('downloads over $transport, served from $source', ({ transport, cache }) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer(files, { cache }, transport);
  });
  afterAll(() => s.close());

  describe.each([
    { name: 'the tapk fixture', id: FIXTURE_ID },
    { name: 'a 1 MiB file', id: MIB_ID },
  ])('$name', ({ id }) => {
    const file = (): StoredFile => files.get(id)!;
    const url = (): string => s.path({ packageId: id });

    it('answers GET with 200, the exact Content-Length and the bytes', async () => {
      const r = await fetchRaw(s.port, url());

      expect(r.status).toBe(200);
      expect(r.headers['content-length']).toBe(String(file().size));
      expect(r.headers['transfer-encoding']).toBeUndefined();
      expect(r.headers['accept-ranges']).toBe('bytes');
      expect(r.headers['content-type']).toBe('application/octet-stream');
      expect(r.headers.etag).toBe(`"${file().sha256}"`);
      expect(sha256(r.body)).toBe(file().sha256);
    });

    it('never compresses, whatever Accept-Encoding says', async () => {
      const r = await fetchRaw(s.port, url(), { headers: { 'Accept-Encoding': 'gzip, br' } });

      expect(r.status).toBe(200);
      expect(r.headers['content-encoding']).toBeUndefined();
      expect(r.body.length).toBe(file().size);
    });

    it('answers HEAD with the headers of GET and no body', async () => {
      const get = await fetchRaw(s.port, url());
      const head = await fetchRaw(s.port, url(), { method: 'HEAD' });

      expect(head.status).toBe(200);
      expect(head.headers['content-length']).toBe(String(file().size));
      expect(head.body.length).toBe(0);
      for (const name of ['content-length', 'content-type', 'etag', 'accept-ranges']) {
        expect(head.headers[name]).toBe(get.headers[name]);
      }
    });

    it('joins two ranged responses into the whole file (hash matches)', async () => {
      const cut = Math.floor(file().size / 3);
      const first = await fetchRaw(s.port, url(), { headers: { Range: `bytes=0-${cut - 1}` } });
      const rest = await fetchRaw(s.port, url(), { headers: { Range: `bytes=${cut}-` } });

      expect(first.status).toBe(206);
      expect(first.headers['content-range']).toBe(`bytes 0-${cut - 1}/${file().size}`);
      expect(first.headers['content-length']).toBe(String(cut));
      expect(rest.status).toBe(206);
      expect(rest.headers['content-range']).toBe(`bytes ${cut}-${file().size - 1}/${file().size}`);
      expect(sha256(Buffer.concat([first.body, rest.body]))).toBe(file().sha256);
    });

    it('answers a suffix range with the last bytes', async () => {
      const r = await fetchRaw(s.port, url(), { headers: { Range: 'bytes=-256' } });

      expect(r.status).toBe(206);
      const size = file().size;
      expect(r.headers['content-range']).toBe(`bytes ${size - 256}-${size - 1}/${size}`);
      expect(
        r.body.equals(
          file()
            .bytes()
            .subarray(size - 256),
        ),
      ).toBe(true);
    });

    it('clamps a range that runs past the end', async () => {
      const size = file().size;
      const r = await fetchRaw(s.port, url(), { headers: { Range: `bytes=10-${size + 5000}` } });

      expect(r.status).toBe(206);
      expect(r.headers['content-range']).toBe(`bytes 10-${size - 1}/${size}`);
      expect(r.body.equals(file().bytes().subarray(10))).toBe(true);
    });

    it('answers 416 with Content-Range bytes */size when no range is satisfiable', async () => {
      const size = file().size;
      const r = await fetchRaw(s.port, url(), { headers: { Range: `bytes=${size}-` } });

      expect(r.status).toBe(416);
      expect(r.headers['content-range']).toBe(`bytes */${size}`);
      expect(JSON.parse(r.body.toString()).error.code).toBe('range_not_satisfiable');
    });

    it('answers 304 when If-None-Match holds the ETag (weak comparison)', async () => {
      const etag = `"${file().sha256}"`;
      const same = await fetchRaw(s.port, url(), { headers: { 'If-None-Match': etag } });
      const weak = await fetchRaw(s.port, url(), {
        headers: { 'If-None-Match': `"x", W/${etag}` },
      });
      const other = await fetchRaw(s.port, url(), { headers: { 'If-None-Match': '"other"' } });

      expect(same.status).toBe(304);
      expect(same.headers.etag).toBe(etag);
      expect(same.body.length).toBe(0);
      expect(weak.status).toBe(304);
      expect(other.status).toBe(200);
      expect(other.body.length).toBe(file().size);
    });

    it('honours Range under If-Range only for the strong, current ETag', async () => {
      const etag = `"${file().sha256}"`;
      const range = 'bytes=0-99';
      const current = await fetchRaw(s.port, url(), {
        headers: { Range: range, 'If-Range': etag },
      });
      const stale = await fetchRaw(s.port, url(), {
        headers: { Range: range, 'If-Range': '"0000"' },
      });
      const weak = await fetchRaw(s.port, url(), {
        headers: { Range: range, 'If-Range': `W/${etag}` },
      });
      const dated = await fetchRaw(s.port, url(), {
        headers: { Range: range, 'If-Range': 'Sat, 10 Apr 2021 02:13:56 GMT' },
      });

      expect(current.status).toBe(206);
      expect(current.body.length).toBe(100);
      for (const r of [stale, weak, dated]) {
        expect(r.status).toBe(200);
        expect(sha256(r.body)).toBe(file().sha256);
      }
    });

    it('refuses a mismatching If-Match with 412', async () => {
      const r = await fetchRaw(s.port, url(), { headers: { 'If-Match': '"other"' } });
      const ok = await fetchRaw(s.port, url(), { headers: { 'If-Match': `"${file().sha256}"` } });

      expect(r.status).toBe(412);
      expect(ok.status).toBe(200);
    });
  });

  it('merges touching ranges into one 206 and sends the whole body for scattered ones', async () => {
    const url = s.path({ packageId: MIB_ID });
    const merged = await fetchRaw(s.port, url, { headers: { Range: 'bytes=100-199, 0-99' } });
    const scattered = await fetchRaw(s.port, url, { headers: { Range: 'bytes=0-9, 500-509' } });

    expect(merged.status).toBe(206);
    expect(merged.headers['content-range']).toBe(`bytes 0-199/${1024 * 1024}`);
    expect(scattered.status).toBe(200);
    expect(scattered.body.length).toBe(1024 * 1024);
  });

  it('ignores a query string and answers other methods 405 with Allow', async () => {
    const ok = await fetchRaw(s.port, `${s.path()}?utm=x`);
    const post = await fetchRaw(s.port, s.path(), { method: 'POST' });

    expect(ok.status).toBe(200);
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });
});
