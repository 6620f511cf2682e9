import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AppRunner } from '../../src/agent/index.js';
import type { HelloMessage, StatusMessage } from '../../src/shared/protocol/index.js';
import { FIXTURE, installCommand, signingKeys } from './helpers/fixture.js';
import { DeviceHarness } from './helpers/device-harness.js';
import { PackageServer, sendCut, sendWhole, type Behaviour } from './helpers/package-server.js';
import { TestBroker, waitFor } from './helpers/test-broker.js';

const keys = signingKeys();
let broker: TestBroker;
const cleanups: (() => Promise<void>)[] = [];

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

async function device(
  options: Partial<Parameters<typeof DeviceHarness.start>[0]> = {},
): Promise<DeviceHarness> {
  const harness = await DeviceHarness.start({
    mqttUrl: broker.url,
    signingPublicKey: keys.publicKeyPem,
    ...options,
  });
  cleanups.push(() => harness.close());
  await waitFor(() => hellos(harness.deviceId).length > 0, 10_000, 'first hello');
  return harness;
}

const statuses = (id: string) => broker.messages<StatusMessage>(id, 'status');
const hellos = (id: string) => broker.messages<HelloMessage>(id, 'hello');
const finalOf = (id: string, cmd: string) =>
  statuses(id).filter(
    (s) =>
      s.cmd === cmd &&
      ['succeeded', 'failed', 'rolled_back', 'rejected', 'canceled'].includes(s.state),
  );

/** The hello a device sends once it is back after `cmd` (it names `cmd` as its last). */
function helloAfter(id: string, cmd: string): Promise<HelloMessage> {
  return waitFor(() => hellos(id).find((h) => h.last?.cmd === cmd), 15_000, `hello after ${cmd}`);
}

function waitFinal(id: string, cmd: string, timeoutMs = 15_000): Promise<StatusMessage> {
  return waitFor(() => finalOf(id, cmd)[0], timeoutMs, `final report for ${cmd}`);
}

/** A runner whose apps of one version exit at once: "a build that crashes at start". */
function crashingVersion(version: string): AppRunner {
  return {
    start: async (app) => ({
      exited:
        app.version === version
          ? new Promise((r) => setTimeout(() => r({ code: 3, signal: null }), 50))
          : new Promise(() => undefined),
      stop: async () => undefined,
    }),
  };
}

describe('device agent', () => {
  it('installs, restarts, keeps the new app through the health window, then deletes the old one', async () => {
    const server = await serve((req, res) => sendWhole(res, FIXTURE));
    const dev = await device();
    const cmd = installCommand(keys, `${server.url}/d/ok`);
    await broker.publishCommand(dev.deviceId, cmd);

    const final = await waitFinal(dev.deviceId, cmd.id);
    expect(final).toMatchObject({ state: 'succeeded', code: 0, version: '2.0.0' });
    const last = await helloAfter(dev.deviceId, cmd.id);
    expect(last).toMatchObject({ app: 'tijos-http-ota', version: '2.0.0', profile: 'agent' });
    expect(last.last).toEqual({ cmd: cmd.id, state: 'succeeded', code: 0 });
    expect(dev.boots).toBe(2);
    expect(dev.agent.state.apps.map((a) => [a.name, a.version])).toEqual([
      ['tijos-http-ota', '2.0.0'],
    ]);
    expect(dev.agent.state.autorun).toBe(last.appId);
    const installed = dev.agent.state.apps[0];
    expect(await readFile(path.join(dev.dataDir, installed.file!))).toEqual(FIXTURE);
    // The progress reports name the steps in order, each with the command id.
    const states = statuses(dev.deviceId)
      .filter((s) => s.cmd === cmd.id)
      .map((s) => s.state);
    expect(states.indexOf('downloading')).toBeLessThan(states.indexOf('restarting'));
    expect(states.at(-1)).toBe('succeeded');
  });

  it('installs a chunked body', async () => {
    const server = await serve((req, res) => {
      res.writeHead(200, { 'transfer-encoding': 'chunked' });
      for (let i = 0; i < FIXTURE.length; i += 4096) res.write(FIXTURE.subarray(i, i + 4096));
      res.end();
    });
    const dev = await device();
    const cmd = installCommand(keys, `${server.url}/d/chunked`, { version: '2.1.0' });
    await broker.publishCommand(dev.deviceId, cmd);
    expect(await waitFinal(dev.deviceId, cmd.id)).toMatchObject({
      state: 'succeeded',
      version: '2.1.0',
    });
  });

  it('fails without installing when the body keeps ending before its Content-Length', async () => {
    const server = await serve((req, res) => sendCut(res, FIXTURE, 5000));
    const dev = await device({ download: { maxAttempts: 3, backoff: { baseMs: 10, maxMs: 20 } } });
    const cmd = installCommand(keys, `${server.url}/d/cut`);
    await broker.publishCommand(dev.deviceId, cmd);

    const final = await waitFinal(dev.deviceId, cmd.id);
    expect(final).toMatchObject({ state: 'failed', reason: 'body_short', code: -1, http: 200 });
    expect(server.requests).toHaveLength(3);
    expect(dev.boots).toBe(1);
    expect(dev.agent.state.apps.map((a) => a.version)).toEqual(['1.0.0']);
    expect(await readdir(path.join(dev.dataDir, 'apps'))).toEqual([]);
    expect(await readdir(path.join(dev.dataDir, 'download'))).toEqual([]);
  });

  it('calls an empty body a hash failure, not a success', async () => {
    const server = await serve((req, res) => {
      res.writeHead(200, { 'content-length': 0 });
      res.end();
    });
    const dev = await device();
    const cmd = installCommand(keys, `${server.url}/d/empty`);
    await broker.publishCommand(dev.deviceId, cmd);
    expect(await waitFinal(dev.deviceId, cmd.id)).toMatchObject({
      state: 'failed',
      reason: 'sha256_mismatch',
      code: -5,
      bytes: 0,
    });
    expect(statuses(dev.deviceId).some((s) => s.state === 'succeeded')).toBe(false);
    expect(dev.agent.state.apps.map((a) => a.version)).toEqual(['1.0.0']);
  });

  it('refuses a full-length package with one altered byte, keeping the old app', async () => {
    const altered = Buffer.from(FIXTURE);
    altered[4242] ^= 0x01;
    const server = await serve((req, res) => sendWhole(res, altered));
    const dev = await device();
    const cmd = installCommand(keys, `${server.url}/d/altered`);
    await broker.publishCommand(dev.deviceId, cmd);
    expect(await waitFinal(dev.deviceId, cmd.id)).toMatchObject({
      state: 'failed',
      reason: 'sha256_mismatch',
      bytes: FIXTURE.length,
    });
    expect(statuses(dev.deviceId).some((s) => s.state === 'succeeded')).toBe(false);
    expect(dev.agent.state.apps.map((a) => a.version)).toEqual(['1.0.0']);
  });

  it('refuses a command whose signature does not verify, without downloading', async () => {
    const server = await serve((req, res) => sendWhole(res, FIXTURE));
    const dev = await device();
    const forged = { ...installCommand(keys, `${server.url}/d/x`), version: '6.6.6' };
    await broker.publishCommand(dev.deviceId, forged);
    expect(await waitFinal(dev.deviceId, forged.id)).toMatchObject({
      state: 'failed',
      reason: 'signature_invalid',
    });
    expect(server.requests).toHaveLength(0);
  });

  it('rolls back a build that crashes at start and reports rolled_back with the command id', async () => {
    const server = await serve((req, res) => sendWhole(res, FIXTURE));
    const dev = await device({ runner: crashingVersion('2.0.0'), healthWindowMs: 2000 });
    const cmd = installCommand(keys, `${server.url}/d/crash`);
    await broker.publishCommand(dev.deviceId, cmd);

    expect(await waitFinal(dev.deviceId, cmd.id)).toMatchObject({
      state: 'rolled_back',
      reason: 'app_crashed',
      code: -5,
      version: '1.0.0',
    });
    expect(hellos(dev.deviceId).map((h) => h.version)).not.toContain('2.0.0');
    expect(await helloAfter(dev.deviceId, cmd.id)).toMatchObject({
      version: '1.0.0',
      // The reason too: the server may see this hello before the status report.
      last: { cmd: cmd.id, state: 'rolled_back', code: -5, reason: 'app_crashed' },
    });
    expect(dev.agent.state.apps.map((a) => a.version)).toEqual(['1.0.0']);
    expect(await readdir(path.join(dev.dataDir, 'apps'))).toEqual([]);
  });

  it('comes back on the old app when it restarts inside the health window', async () => {
    const server = await serve((req, res) => sendWhole(res, FIXTURE));
    const dev = await device({ healthWindowMs: 60_000 });
    const cmd = installCommand(keys, `${server.url}/d/window`);
    await broker.publishCommand(dev.deviceId, cmd);
    await waitFor(() => dev.boots === 2 && dev.agent.state.trial?.booted, 10_000, 'trial boot');

    await dev.powerCycle();
    expect(await waitFinal(dev.deviceId, cmd.id)).toMatchObject({
      state: 'rolled_back',
      reason: 'restarted_in_health_window',
      version: '1.0.0',
    });
    expect(dev.agent.state.apps.map((a) => a.version)).toEqual(['1.0.0']);
  });

  it('rejects each malformed command once, downloads nothing, and runs the next valid one', async () => {
    const server = await serve((req, res) => sendWhole(res, FIXTURE));
    const dev = await device();
    const valid = installCommand(keys, `${server.url}/d/after`);
    const { url: _url, ...noUrl } = installCommand(keys, `${server.url}/d/x`);
    const { sha256, ...noSha } = installCommand(keys, `${server.url}/d/x`);
    const malformed = [
      '{"v":1,"op":"install",', // bad JSON
      JSON.stringify(noUrl),
      JSON.stringify(installCommand(keys, `${server.url}/d/x`, { size: -5 })),
      JSON.stringify(installCommand(keys, `${server.url}/d/x`, { size: 2 ** 40 })),
      // An unknown digest algorithm: sha1 instead of sha256.
      JSON.stringify({ ...noSha, sha1: sha256.slice(0, 40) }),
      JSON.stringify({
        ...installCommand(keys, `${server.url}/d/x`),
        sha256: `md5:${sha256.slice(0, 32)}`,
      }),
    ];
    for (const payload of malformed) {
      await broker.publishCommand(dev.deviceId, payload);
      // The same retained payload again (a redelivery) must not be rejected twice.
      await broker.publishCommand(dev.deviceId, payload);
    }
    await waitFor(
      () => statuses(dev.deviceId).filter((s) => s.state === 'rejected').length >= malformed.length,
      10_000,
      'rejections',
    );
    await broker.publishCommand(dev.deviceId, valid);
    expect(await waitFinal(dev.deviceId, valid.id)).toMatchObject({ state: 'succeeded' });

    const rejected = statuses(dev.deviceId).filter((s) => s.state === 'rejected');
    expect(rejected).toHaveLength(malformed.length);
    for (const r of rejected) expect(r.reason).toBe('malformed_command');
    expect(rejected[0].cmd).toBe('-');
    expect(rejected[1].cmd).toBe(noUrl.id);
    expect(server.requests.map((r) => r.url)).toEqual(['/d/after']);
  });

  it('executes the same command once, across redeliveries and restarts', async () => {
    const server = await serve((req, res) => sendWhole(res, FIXTURE));
    const dev = await device();
    const cmd = installCommand(keys, `${server.url}/d/once`, { version: '3.0.0' });
    await broker.publishCommand(dev.deviceId, cmd);
    await waitFinal(dev.deviceId, cmd.id);
    // The retained command came again on the reconnect after the restart; send it once more.
    await broker.publishCommand(dev.deviceId, cmd);
    await dev.powerCycle();
    await waitFor(() => hellos(dev.deviceId).length >= 3, 10_000, 'hello after power cycle');
    await new Promise((r) => setTimeout(r, 300));

    expect(server.requests).toHaveLength(1);
    expect(finalOf(dev.deviceId, cmd.id)).toHaveLength(1);
    expect(dev.boots).toBe(3);
  });

  it('ends with a truthful report when the broker refuses the first connection after the install', async () => {
    const server = await serve((req, res) => sendWhole(res, FIXTURE));
    const refusing = await TestBroker.start();
    cleanups.push(() => refusing.close());
    let restarted = false;
    let refusedConnects = 0;
    let refusedReports = 0;
    refusing.broker.authenticate = (client, username, password, done) => {
      // MQTT's 503: CONNACK return code 3, "server unavailable" (MQTT 3.1.1 §3.2.2.3).
      if (restarted && refusedConnects < 2) {
        refusedConnects += 1;
        return done(Object.assign(new Error('unavailable'), { returnCode: 3 }), false);
      }
      done(null, true);
    };
    refusing.broker.authorizePublish = (client, packet, done) => {
      // Then the first outcome report is refused too (the broker drops the connection).
      const report = packet.topic.endsWith('/status') && packet.payload.toString();
      if (report && report.includes('"succeeded"') && refusedReports === 0) {
        refusedReports += 1;
        return done(new Error('refused'));
      }
      done(null);
    };
    const codes: number[] = [];
    const dev = await DeviceHarness.start({
      mqttUrl: refusing.url,
      signingPublicKey: keys.publicKeyPem,
      onBoot: (agent) => agent.on('refused', (code) => codes.push(code)),
    });
    cleanups.push(() => dev.close());
    const cmd = installCommand(keys, `${server.url}/d/503`, { version: '2.2.0' });
    await waitFor(() => refusing.messages(dev.deviceId, 'hello').length > 0, 10_000, 'hello');
    dev.agent.once('restarting', () => {
      restarted = true;
    });
    await refusing.publishCommand(dev.deviceId, cmd);

    const final = await waitFor(
      () =>
        refusing
          .messages<StatusMessage>(dev.deviceId, 'status')
          .find((s) => s.state === 'succeeded'),
      20_000,
      'succeeded report',
    );
    expect(final).toMatchObject({ cmd: cmd.id, version: '2.2.0', code: 0 });
    expect(refusedConnects).toBe(2);
    expect(refusedReports).toBe(1);
    expect(codes).toEqual([3, 3]);
    // The hello after the restart tells the same truth: the version that runs.
    const hello = await waitFor(
      () =>
        refusing.messages<HelloMessage>(dev.deviceId, 'hello').find((h) => h.last?.cmd === cmd.id),
      10_000,
      'hello after the install',
    );
    expect(hello).toMatchObject({ version: '2.2.0', last: { state: 'succeeded', code: 0 } });
    await waitFor(() => dev.agent.state.outbox.length === 0, 5000, 'outbox drained');
  });

  it('resumes a download interrupted by a power cut, from the bytes already on disk', async () => {
    let slow = true;
    const server = await serve((req, res, n) => {
      if (n === 0 && slow) {
        // Half the body, then silence: the device loses power while waiting.
        res.writeHead(200, { 'content-length': FIXTURE.length, etag: '"v1"' });
        res.write(FIXTURE.subarray(0, 10_000));
        return;
      }
      const match = /^bytes=(\d+)-/.exec(req.headers.range ?? '');
      const start = match ? Number(match[1]) : 0;
      res.writeHead(start ? 206 : 200, {
        'content-length': FIXTURE.length - start,
        ...(start && { 'content-range': `bytes ${start}-${FIXTURE.length - 1}/${FIXTURE.length}` }),
      });
      res.end(FIXTURE.subarray(start));
    });
    const dev = await device();
    const cmd = installCommand(keys, `${server.url}/d/resume`, { version: '2.3.0' });
    await broker.publishCommand(dev.deviceId, cmd);
    await waitFor(() => server.requests.length === 1, 10_000, 'first request');
    await new Promise((r) => setTimeout(r, 200));
    slow = false;
    await dev.powerCycle();

    expect(await waitFinal(dev.deviceId, cmd.id)).toMatchObject({
      state: 'succeeded',
      version: '2.3.0',
    });
    expect(server.requests[1]).toMatchObject({ range: 'bytes=10000-', ifRange: '"v1"' });
    expect(hellos(dev.deviceId).some((h) => h.busy === cmd.id)).toBe(true);
  });

  it('keeps the old app when started with -1, and refuses a 33rd app', async () => {
    const server = await serve((req, res) => sendWhole(res, FIXTURE));
    const dev = await device({ keepOldApp: true });
    const cmd = installCommand(keys, `${server.url}/d/keep`);
    await broker.publishCommand(dev.deviceId, cmd);
    expect(await waitFinal(dev.deviceId, cmd.id)).toMatchObject({ state: 'succeeded' });
    const apps = dev.agent.state.apps;
    expect(apps.map((a) => [a.id, a.version])).toEqual([
      [1, '1.0.0'],
      [2, '2.0.0'],
    ]);
    expect(dev.agent.state.autorun).toBe(2);

    // Fill the device up to 32 apps (TIJOS.md), then offer one more.
    await dev.agent.stop();
    const file = path.join(dev.dataDir, 'state.json');
    const state = JSON.parse(await readFile(file, 'utf8'));
    for (let id = 3; id <= 32; id++) state.apps.push({ ...state.apps[0], id, version: `0.${id}` });
    state.nextAppId = 33;
    await writeFile(file, JSON.stringify(state));
    await dev.powerCycle();
    const more = installCommand(keys, `${server.url}/d/more`, { version: '3.0.0' });
    await broker.publishCommand(dev.deviceId, more);
    expect(await waitFinal(dev.deviceId, more.id)).toMatchObject({
      state: 'failed',
      reason: 'too_many_apps',
      code: -3,
    });
    expect(server.requests).toHaveLength(1);
  });

  it('cancels a download in progress on a cancel command', async () => {
    const server = await serve((req, res) => {
      res.writeHead(200, { 'content-length': FIXTURE.length });
      res.write(FIXTURE.subarray(0, 1000));
    });
    const dev = await device();
    const cmd = installCommand(keys, `${server.url}/d/cancel`);
    await broker.publishCommand(dev.deviceId, cmd);
    await waitFor(() => server.requests.length === 1, 10_000, 'request');
    await broker.publishCommand(dev.deviceId, { v: 1, op: 'cancel', id: cmd.id });
    expect(await waitFinal(dev.deviceId, cmd.id)).toMatchObject({ state: 'canceled' });
    expect(dev.agent.state.job).toBeNull();
    expect(dev.agent.state.apps.map((a) => a.version)).toEqual(['1.0.0']);
  });
});
