/**
 * Tiota's download path in a process of its own, as the server runs it: front server, token
 * check on every request, revocation lookup, accounting, metrics and a pino logger. Started by run.ts with
 * BENCH_PORT, BENCH_SECRET (hex), BENCH_FILES (JSON {id: path}) and BENCH_MEMORY_BYTES.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import pino from 'pino';
import { Registry } from 'prom-client';

import { createDownloadHandler } from '../../src/server/download/download-handler.js';
import type { ResolvedPackage } from '../../src/server/download/package-cache.js';

const port = Number(process.env.BENCH_PORT);
const secret = Buffer.from(process.env.BENCH_SECRET ?? '', 'hex');
const paths = JSON.parse(process.env.BENCH_FILES ?? '{}') as Record<string, string>;
const memoryBytes = Number(process.env.BENCH_MEMORY_BYTES ?? 64 * 1024 * 1024);

const packages = new Map<number, ResolvedPackage>();
for (const [id, filePath] of Object.entries(paths)) {
  const sha256 = createHash('sha256').update(readFileSync(filePath)).digest('hex');
  packages.set(Number(id), { filePath, sha256, size: statSync(filePath).size });
}

// As the server does: revocation from an in-memory set, bytes summed per action.
const revoked = new Set<number>();
const bytesByAction = new Map<number, number>();

const handler = createDownloadHandler({
  keyring: { secret: (keyId) => (keyId === 1 ? secret : undefined) },
  nowMs: Date.now,
  skewSeconds: 60,
  resolvePackage: async (id) => packages.get(id),
  isDeviceRevoked: (id) => revoked.has(id),
  onProgress: (e) => {
    bytesByAction.set(e.grant.actionId, (bytesByAction.get(e.grant.actionId) ?? 0) + e.bytes);
  },
  limits: { maxInFlight: 10_000, maxInFlightPerPackage: 10_000, retryAfterSeconds: 5 },
  cache: { memoryBytes },
  log: pino({ level: 'warn' }, pino.destination({ dest: '/dev/null', sync: false })),
  registry: new Registry(),
});

// As the Tiota server wires it: Node's HTTP server (Fastify's, there) behind the front server,
// which answers plain downloads itself and hands everything else over.
const httpServer = createServer((req, res) => {
  if (req.url?.startsWith('/d/')) return handler.handle(req, res);
  res.writeHead(404).end();
});
const server = handler.createFrontServer(httpServer, { keepAliveTimeoutMs: 65_000 });
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${(server.address() as AddressInfo).port}\n`);
});

process.on('SIGTERM', () => {
  handler.close();
  server.closeAllConnections();
  httpServer.closeAllConnections();
  server.close(() => process.exit(0));
});
