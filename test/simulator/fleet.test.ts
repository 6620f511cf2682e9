import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceCredentials } from '../../src/agent/index.js';
import type { HelloMessage, StatusMessage } from '../../src/shared/protocol/index.js';
import {
  Fleet,
  NO_FAULTS,
  type FaultSettings,
  type FleetOptions,
} from '../../src/simulator/index.js';
import { FIXTURE, installCommand, signingKeys } from '../agent/helpers/fixture.js';
import {
  PackageServer,
  sendRanged,
  sendWhole,
  type Behaviour,
} from '../agent/helpers/package-server.js';
import { TestBroker, waitFor } from '../agent/helpers/test-broker.js';

const keys = signingKeys();
let broker: TestBroker;
const cleanups: (() => Promise<void>)[] = [];
let fleetNo = 0;

beforeAll(async () => {
  broker = await TestBroker.start();
});
afterAll(async () => {
  await broker.close();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(behaviour: Behaviour): Promise<PackageServer> {
  const server = await PackageServer.start(behaviour);
  cleanups.push(() => server.close());
  return server;
}

function credentials(count: number): DeviceCredentials[] {
  fleetNo += 1;
  return Array.from({ length: count }, (_, i) => ({
    deviceId: `sim${fleetNo}-${i}`,
    mqttUrl: broker.url,
    username: `sim${fleetNo}-${i}`,
    password: 'x',
    signingPublicKey: keys.publicKeyPem,
  }));
}

/** Starts a fleet, waits for every hello, sends each device the command `commandFor` makes. */
async function rehearse(
  count: number,
  url: string,
  options: Partial<FleetOptions> & { faults?: Partial<FaultSettings>; body?: Buffer } = {},
) {
  const creds = credentials(count);
  let dataDir: string | undefined;
  if (options.profile === 'agent') {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'tiota-sim-'));
    const dir = dataDir;
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
  }
  const fleet = new Fleet({
    credentials: creds,
    profile: 'tijos',
    app: { name: 'tijos-http-ota', version: '1.0.0' },
    rebootSeconds: { min: 0.05, max: 0.1 },
    dataDir,
    healthWindowMs: 300,
    ...options,
    faults: { ...NO_FAULTS, ...options.faults },
  });
  cleanups.push(() => fleet.stop());
  await fleet.start();
  await waitFor(
    () => creds.every((c) => broker.messages(c.deviceId, 'hello').length > 0),
    20_000,
    'every hello',
  );
  const cmds = creds.map(() => installCommand(keys, url, { body: options.body }));
  await Promise.all(creds.map((c, i) => broker.publishCommand(c.deviceId, cmds[i])));
  expect(await fleet.waitSettled(300, 30_000)).toBe('settled');
  return { fleet, creds, cmds, summary: fleet.summary() };
}

const hellos = (id: string) => broker.messages<HelloMessage>(id, 'hello');
const statuses = (id: string) => broker.messages<StatusMessage>(id, 'status');

describe('tijos profile', () => {
  it('upgrades like the reference OTA app: one plain GET, restart, hello with the new version', async () => {
    const server = await serve((req, res) => sendWhole(res, FIXTURE));
    const { creds, cmds, summary } = await rehearse(20, `${server.url}/d/t`);

    expect(summary.states).toMatchObject({ succeeded: 20, failed: 0, rolled_back: 0, working: 0 });
    expect(summary.codes).toEqual({ '0': 20 });
    expect(summary.versions).toEqual({ '2.0.0': 20 });
    expect(summary.downloads?.count).toBe(20);
    expect(server.requests).toHaveLength(20);
    expect(server.requests.every((r) => r.method === 'GET' && r.range === undefined)).toBe(true);
    creds.forEach((c, i) => {
      // The user app says "starting OTA" (downloading) once; the OTA app says nothing.
      expect(statuses(c.deviceId)).toEqual([{ cmd: cmds[i].id, state: 'downloading' }]);
      const [first, after] = hellos(c.deviceId);
      expect(first).toMatchObject({
        app: 'tijos-http-ota',
        version: '1.0.0',
        appId: 2,
        profile: 'tijos',
      });
      // The new app got a new id; the old one (id 2) was deleted.
      expect(after).toMatchObject({ version: '2.0.0', appId: 3 });
    });
  });

  it('fails with -1 on any status but 200, follows no redirect, retries nothing', async () => {
    const server = await serve((req, res) => {
      res.writeHead(req.url === '/d/gone' ? 404 : 302, { location: '/d/elsewhere' });
      res.end();
    });
    const { summary, creds } = await rehearse(4, `${server.url}/d/moved`);
    expect(summary.states).toMatchObject({ failed: 4 });
    expect(summary.codes).toEqual({ '-1': 4 });
    expect(summary.versions).toEqual({ '1.0.0': 4 });
    expect(server.requests.map((r) => r.url)).toEqual(Array(4).fill('/d/moved'));
    for (const c of creds)
      expect(hellos(c.deviceId).map((h) => h.version)).toEqual(['1.0.0', '1.0.0']);
  });

  it('fails with -3 without a Content-Length (chunked) and when the package exceeds free space', async () => {
    const server = await serve((req, res) => {
      res.writeHead(200, { 'transfer-encoding': 'chunked' });
      res.end(FIXTURE);
    });
    const { summary } = await rehearse(3, `${server.url}/d/chunked`);
    expect(summary.codes).toEqual({ '-3': 3 });
    expect(summary.states.failed).toBe(3);

    const whole = await serve((req, res) => sendWhole(res, FIXTURE));
    const small = await rehearse(3, `${whole.url}/d/big`, { freeSpace: FIXTURE.length - 1 });
    expect(small.summary.codes).toEqual({ '-3': 3 });
    // Refused from the Content-Length alone: no body byte was taken.
    expect(small.summary.downloads).toBeNull();
  });

  it('gives up with -2 when the link is too slow for the time limit', async () => {
    const server = await serve((req, res) => sendWhole(res, FIXTURE));
    // 20,384 bytes at 4,000 B/s need 5 s; the limit (60 s on a device) is 1 s here.
    const { summary } = await rehearse(3, `${server.url}/d/slow`, {
      otaTimeoutMs: 1000,
      faults: { linkSpeed: { min: 4000, max: 4000 } },
    });
    expect(summary.codes).toEqual({ '-2': 3 });
    expect(summary.states.failed).toBe(3);
    expect(summary.versions).toEqual({ '1.0.0': 3 });
  });

  it('fails with -1 when the connection drops, and with -5 when the .tapk is corrupt', async () => {
    const dropping = await serve((req, res) => sendWhole(res, FIXTURE));
    const dropped = await rehearse(3, `${dropping.url}/d/drop`, { faults: { dropRate: 1 } });
    expect(dropped.summary.codes).toEqual({ '-1': 3 });
    expect(dropping.requests).toHaveLength(3);

    const corrupt = Buffer.from(FIXTURE);
    corrupt[100] ^= 0xff; // the trailer's CRC-16 no longer matches
    const server = await serve((req, res) => sendWhole(res, corrupt));
    const { summary } = await rehearse(3, `${server.url}/d/corrupt`, { body: corrupt });
    expect(summary.codes).toEqual({ '-5': 3 });
    // The whole package arrived and activation refused it: the server calls that rolled back.
    expect(summary.states.rolled_back).toBe(3);
  });

  it('comes back on the old version when the new build crashes at start', async () => {
    const server = await serve((req, res) => sendWhole(res, FIXTURE));
    const { summary, creds } = await rehearse(5, `${server.url}/d/crash`, {
      faults: { crashRate: 1 },
    });
    expect(summary.states).toMatchObject({ rolled_back: 5, succeeded: 0 });
    expect(summary.reasons).toEqual({ crashed_at_start: 5 });
    expect(summary.codes).toEqual({ '0': 5 });
    for (const c of creds) expect(hellos(c.deviceId).at(-1)).toMatchObject({ version: '1.0.0' });
  });

  it('reconnects after an offline spell and says hello again', async () => {
    const server = await serve((req, res) => sendWhole(res, FIXTURE));
    const creds = credentials(3);
    const fleet = new Fleet({
      credentials: creds,
      profile: 'tijos',
      app: { name: 'demo', version: '1.0.0' },
      faults: {
        ...NO_FAULTS,
        offlineRate: 1,
        offlineSeconds: 0.5,
        offlineFromSeconds: 1,
        offlineWithinSeconds: 1.2,
      },
    });
    cleanups.push(() => fleet.stop());
    await fleet.start();
    await waitFor(
      () => creds.every((c) => hellos(c.deviceId).length >= 2),
      10_000,
      'a second hello after the spell',
    );
    expect(server.requests).toHaveLength(0);
  });
});

describe('agent profile', () => {
  it('resumes dropped downloads with Range, verifies, and upgrades every device', async () => {
    const server = await serve((req, res) => sendRanged(req, res, FIXTURE));
    const { summary } = await rehearse(10, `${server.url}/d/a`, {
      profile: 'agent',
      faults: { dropRate: 0.6, clockSkewSeconds: 86_400 },
    });
    expect(summary.states).toMatchObject({ succeeded: 10, failed: 0 });
    expect(summary.versions).toEqual({ '2.0.0': 10 });
    expect(server.requests.some((r) => r.range !== undefined)).toBe(true);
  });

  it('rolls back a crashing build through the health window and says why', async () => {
    const server = await serve((req, res) => sendWhole(res, FIXTURE));
    const { summary, creds, cmds } = await rehearse(4, `${server.url}/d/c`, {
      profile: 'agent',
      faults: { crashRate: 1 },
    });
    expect(summary.states.rolled_back).toBe(4);
    expect(summary.reasons).toEqual({ app_crashed: 4 });
    creds.forEach((c, i) => {
      expect(statuses(c.deviceId).find((s) => s.state === 'rolled_back')).toMatchObject({
        cmd: cmds[i].id,
        version: '1.0.0',
      });
    });
  });

  it('fails verification of a package that does not match its command', async () => {
    const other = Buffer.from(FIXTURE);
    other[0] ^= 1;
    const server = await serve((req, res) => sendWhole(res, other));
    const { summary } = await rehearse(2, `${server.url}/d/v`, { profile: 'agent' });
    expect(summary.reasons).toEqual({ sha256_mismatch: 2 });
    expect(createHash('sha256').update(other).digest('hex')).not.toBe(
      createHash('sha256').update(FIXTURE).digest('hex'),
    );
  });
});
