import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/server/config.js';
import { createLogger } from '../../src/server/log.js';
import { startServer, type RunningServer } from '../../src/server/start-server.js';
import type { BlobStore } from '../../src/server/storage/blob-store.js';
import { openBlobStore } from '../../src/server/storage/open-blob-store.js';
import type { InstallCommand } from '../../src/shared/protocol/index.js';
import { TestDevice } from '../support/mqtt-device.js';
import { startS3Server, S3_CREDENTIALS, type S3Server } from '../support/s3-server.js';
import { createPgDatabase, startTestServer, type TestServer } from '../support/test-server.js';

const MiB = 1024 * 1024;
const log = createLogger('silent');
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Streams `bytes` in 64 KiB chunks, as an HTTP upload arrives. */
const streamOf = (bytes: Buffer) =>
  Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += 64 * 1024) yield bytes.subarray(i, i + 64 * 1024);
    })(),
  );

/** TIOTA_STORAGE_URL=s3://… against a local S3-protocol server (docs/deploy.md). */
describe('object storage over the S3 protocol', () => {
  let s3: S3Server;
  const dirs: string[] = [];
  const stores: BlobStore[] = [];

  beforeAll(async () => {
    s3 = await startS3Server();
    Object.assign(process.env, S3_CREDENTIALS);
  });
  afterAll(async () => {
    for (const store of stores) store.close?.();
    await s3?.stop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  /** A replica's view of the bucket: its own data folder, so its own local cache. */
  async function replica(prefix: string, cacheBytes = 1024 * MiB) {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tiota-s3-replica-'));
    dirs.push(dataDir);
    const store = await openBlobStore(s3.storageUrl(prefix), dataDir, { cacheBytes, log });
    stores.push(store);
    return { store, dataDir };
  }

  async function put(store: BlobStore, bytes: Buffer): Promise<string> {
    const staged = await store.stage(streamOf(bytes), { maxBytes: 1024 * MiB });
    await staged.commit();
    return staged.sha256;
  }

  it('uploads in parts from the staged file and serves another replica from its checked cache', async () => {
    const bytes = randomBytes(20 * MiB); // three parts of 8 MiB
    const a = await replica('fleet/prod');
    const b = await replica('fleet/prod');
    const staged = await a.store.stage(streamOf(bytes), { maxBytes: 1024 * MiB });
    expect(staged).toMatchObject({ sha256: sha256(bytes), size: bytes.length });
    expect(await b.store.has(staged.sha256)).toBe(false);
    await staged.commit();

    const head = await s3.client.send(
      new HeadObjectCommand({ Bucket: s3.bucket, Key: `fleet/prod/sha256/${staged.sha256}` }),
    );
    expect(head.ContentLength).toBe(bytes.length);
    expect(await b.store.has(staged.sha256)).toBe(true);

    // Two downloads asking at once share one fetch; the copy lands under <dataDir>/cache.
    const [first, second] = await Promise.all([
      b.store.localPath(staged.sha256),
      b.store.localPath(staged.sha256),
    ]);
    expect(second).toBe(first);
    expect(first.startsWith(path.join(b.dataDir, 'cache', 'sha256'))).toBe(true);
    expect((await readFile(first)).equals(bytes)).toBe(true);
    // The uploading replica kept its staged file as its cached copy.
    expect((await readFile(await a.store.localPath(staged.sha256))).equals(bytes)).toBe(true);
  });

  it('refuses an object whose bytes do not match its name, and caches nothing', async () => {
    const { store, dataDir } = await replica('corrupt');
    const claimed = sha256(Buffer.from('the real package'));
    await s3.client.send(
      new PutObjectCommand({
        Bucket: s3.bucket,
        Key: `corrupt/sha256/${claimed}`,
        Body: 'something else',
      }),
    );
    await expect(store.localPath(claimed)).rejects.toThrow(/hash to/);
    expect(await readdir(path.join(dataDir, 'cache', 'tmp'))).toEqual([]);
    await expect(
      readdir(path.join(dataDir, 'cache', 'sha256', claimed.slice(0, 2))),
    ).rejects.toThrow();
  });

  it('evicts the least recently used copy beyond its budget and fetches it again when asked', async () => {
    const { store } = await replica('lru', 3 * MiB);
    const evicted: string[] = [];
    store.onEvicted = (hash) => evicted.push(hash);
    const [one, two] = [randomBytes(1.5 * MiB), randomBytes(1.5 * MiB)];
    const first = await put(store, one);
    const second = await put(store, two);
    expect(evicted).toEqual([]);

    await store.localPath(first); // now the most recently used
    const third = await put(store, randomBytes(1.5 * MiB));
    expect(evicted).toEqual([second]);

    const again = await store.localPath(second);
    expect((await readFile(again)).equals(two)).toBe(true);
    expect(evicted).toEqual([second, first]);
    expect(third).toMatch(/^[0-9a-f]{64}$/);
  });

  it('deletes a package from the bucket and from the cache', async () => {
    const { store } = await replica('delete');
    const hash = await put(store, randomBytes(1000));
    const file = await store.localPath(hash);
    await store.delete(hash);
    expect(await store.has(hash)).toBe(false);
    await expect(readFile(file)).rejects.toThrow(/ENOENT/);
  });

  describe('served by two replicas that share PostgreSQL and the bucket', () => {
    let pg: Awaited<ReturnType<typeof createPgDatabase>>;
    let a: TestServer;
    let b: RunningServer;

    beforeAll(async () => {
      pg = await createPgDatabase();
      const config = { databaseUrl: pg.url, storageUrl: s3.storageUrl('served') };
      a = await startTestServer({ config });
      // A second replica: the admin was made by the first, so it needs no token of its own.
      const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tiota-s3-replica-'));
      dirs.push(dataDir);
      const local = { httpHost: '127.0.0.1', httpPort: '0', mqttHost: '127.0.0.1', mqttPort: '0' };
      b = await startServer(resolveConfig({ ...config, ...local, dataDir }, {}), log);
    });
    afterAll(async () => {
      await a?.stop();
      await b?.close();
      await pg?.drop();
    });

    it('answers 200 with Content-Length and Range from either replica, never a redirect', async () => {
      const firmware = randomBytes(9 * MiB);
      const upload = await fetch(
        `${a.httpUrl}/api/v1/packages?version=9.0.0&app=fw&fileName=fw.bin`,
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${a.token}`,
            'content-type': 'application/octet-stream',
          },
          body: firmware,
        },
      );
      expect(upload.status).toBe(201);
      const pkg = await upload.json();

      const creds = (await a.api('POST', '/devices', { deviceId: 's3-dev' })).body;
      const device = await TestDevice.connect(creds, { app: 'fw', version: '1.0.0' });
      await a.api('POST', '/rollouts', { packageId: pkg.id, target: { devices: ['s3-dev'] } });
      const command = (await device.nthCommand(1)) as InstallCommand;
      expect(command.url.startsWith(a.publicUrl)).toBe(true);

      const fromA = await fetch(command.url, { redirect: 'manual' });
      expect(fromA.status).toBe(200);
      expect(fromA.headers.get('content-length')).toBe(String(firmware.length));
      expect(sha256(Buffer.from(await fromA.arrayBuffer()))).toBe(pkg.sha256);

      // Replica B has no copy yet: it fetches one from the bucket for this request.
      const onB = command.url.replace(a.publicUrl, b.publicUrl);
      const range = await fetch(onB, { headers: { range: 'bytes=100-199' }, redirect: 'manual' });
      expect(range.status).toBe(206);
      expect(range.headers.get('content-range')).toBe(`bytes 100-199/${firmware.length}`);
      expect(Buffer.from(await range.arrayBuffer()).equals(firmware.subarray(100, 200))).toBe(true);
      const whole = await fetch(onB, { redirect: 'manual' });
      expect(whole.status).toBe(200);
      expect(sha256(Buffer.from(await whole.arrayBuffer()))).toBe(pkg.sha256);
      expect(await readdir(path.join(b.config.dataDir, 'cache', 'sha256'))).toHaveLength(1);
      await device.close();
    });
  });
});
