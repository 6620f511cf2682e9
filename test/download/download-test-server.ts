import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Registry } from 'prom-client';

import {
  createDownloadHandler,
  type DownloadDeps,
  type DownloadHandler,
  type DownloadProgress,
} from '../../src/server/download/download-handler.js';
import type { FrontServer } from '../../src/server/download/front-server.js';
import type { ResolvedPackage } from '../../src/server/download/package-cache.js';
import { signDownloadToken, type DownloadGrant } from '../../src/shared/token/download-token.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The real TiJOS OTA app (CI clones shared/ beside the repository). */
export const FIXTURE_PATH = path.resolve(repoRoot, '../shared/fixtures/tapk/tijos-http-ota.tapk');

export const FIXTURE_ID = 1;
export const MIB_ID = 2;
/** A 64 MiB sparse file: larger than every socket buffer, so a paused reader holds it open. */
export const BIG_ID = 3;

export const T0 = Date.UTC(2030, 0, 1) / 1000;
export const DAY = 24 * 3600;

export interface StoredFile extends ResolvedPackage {
  readonly bytes: () => Buffer;
}

/** Test files made once per test file, removed by `removeFiles`. */
export function makeFiles(): { files: Map<number, StoredFile>; removeFiles: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'tiota-download-'));
  const mib = path.join(dir, 'one-mib.bin');
  writeFileSync(mib, randomBytes(1024 * 1024));
  const big = path.join(dir, 'big.bin');
  writeFileSync(big, '');
  truncateSync(big, 64 * 1024 * 1024);

  const stored = (filePath: string): StoredFile => {
    const bytes = readFileSync(filePath);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    return { filePath, size: bytes.length, sha256, bytes: () => readFileSync(filePath) };
  };
  const files = new Map([
    [FIXTURE_ID, stored(FIXTURE_PATH)],
    [MIB_ID, stored(mib)],
    [BIG_ID, stored(big)],
  ]);
  return { files, removeFiles: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

export interface TestServer {
  readonly port: number;
  readonly handler: DownloadHandler;
  /** The front server (listening unless the transport is `node`). */
  readonly front: FrontServer;
  readonly registry: Registry;
  readonly events: DownloadProgress[];
  readonly logs: LogLine[];
  readonly secrets: Map<number, Buffer>;
  readonly revoked: Set<number>;
  /** Unix seconds the handler believes it is; move it freely. */
  now: number;
  /** `/d/<token>` for a grant; defaults: key 1, device 7, action 9, valid T0..T0+1 day. */
  path(grant?: Partial<DownloadGrant>): string;
  close(): Promise<void>;
}

/**
 * Which way requests reach the handler: `front`, the lean TCP front server the Tiota server
 * listens with (it hands anything else to Node's HTTP server), on bare libuv handles;
 * `front-socket`, the same front on `net.Socket`s (where Node lacks the handles); or `node`,
 * Node's HTTP server calling `handle` (the path of requests the front hands over).
 */
export type Transport = 'front' | 'front-socket' | 'node';
export const TRANSPORTS: readonly Transport[] = ['front', 'front-socket', 'node'];
export const FRONT_TRANSPORTS: readonly Transport[] = ['front', 'front-socket'];

export async function startServer(
  files: Map<number, StoredFile>,
  overrides: Partial<DownloadDeps> = {},
  transport: Transport = 'front',
): Promise<TestServer> {
  const secrets = new Map([[1, randomBytes(32)]]);
  const revoked = new Set<number>();
  const events: DownloadProgress[] = [];
  const logs: LogLine[] = [];
  const registry = new Registry();
  const logAt =
    (level: string) =>
    (fields: object, msg: string): void =>
      void logs.push({ level, msg, ...fields });

  const state = { now: T0 };
  const handler = createDownloadHandler({
    keyring: { secret: (id) => secrets.get(id) },
    nowMs: () => state.now * 1000,
    skewSeconds: 60,
    resolvePackage: async (id) => files.get(id),
    isDeviceRevoked: (id) => revoked.has(id),
    onProgress: (event) => void events.push(event),
    limits: { maxInFlight: 100, maxInFlightPerPackage: 100, retryAfterSeconds: 7 },
    log: { info: logAt('info'), warn: logAt('warn'), error: logAt('error') },
    registry,
    ...overrides,
  });
  // What the Tiota server does: downloads to the handler, the rest to the API (here a stub).
  const httpServer: Server = createServer((req, res) => {
    if (req.url?.startsWith('/d/')) return handler.handle(req, res);
    const body = `api ${req.method} ${req.url}`;
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
    res.end(body);
  });
  const front = handler.createFrontServer(httpServer, {
    keepAliveTimeoutMs: 2000,
    rawHandles: transport === 'front',
  });
  const server = transport === 'node' ? httpServer : front;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  const t: TestServer = {
    port: (server.address() as AddressInfo).port,
    handler,
    front,
    registry,
    events,
    logs,
    secrets,
    revoked,
    get now() {
      return state.now;
    },
    set now(value: number) {
      state.now = value;
    },
    path(grant = {}) {
      const full: DownloadGrant = {
        keyId: 1,
        packageId: FIXTURE_ID,
        deviceRowId: 7,
        actionId: 9,
        notBefore: T0,
        expiresAt: T0 + DAY,
        ...grant,
      };
      return `/d/${signDownloadToken(full, secrets.get(full.keyId)!)}`;
    },
    async close() {
      handler.close();
      front.closeAllConnections();
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return t;
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One request on a fresh connection, headers exactly as given (no client defaults added). */
export function fetchRaw(
  port: number,
  urlPath: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: urlPath, agent: false, ...options },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Polls until `check` holds (events arrive when the server side closes the response). */
export async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The value of one sample in Prometheus text, e.g. `tiota_downloads_in_flight`. */
export async function metric(registry: Registry, sample: string): Promise<number | undefined> {
  const text = await registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}
