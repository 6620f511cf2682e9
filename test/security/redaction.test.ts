import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/server/config.js';
import { createLogger } from '../../src/server/log.js';
import { startServer, type RunningServer } from '../../src/server/start-server.js';
import type { InstallCommand } from '../../src/shared/protocol/index.js';
import { FIXTURE_TAPK } from '../support/fixture.js';
import { TestDevice } from '../support/mqtt-device.js';
import { callApi } from '../support/test-server.js';

/**
 * Secrets never appear in logs: a real server logging everything (level trace) into memory
 * while it handles every kind of secret — operator passwords, API tokens, console sessions,
 * device passwords, enrollment tokens, download URLs — and not one of them in the output.
 */
describe('log redaction', () => {
  let server: RunningServer;
  let dataDir: string;
  let log = '';
  const secrets = new Map<string, string>();

  const api = (token: string | null, method: string, route: string, body?: unknown) =>
    callApi(server.httpUrl, token, method, route, body);

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'tiota-redact-'));
    const capture = new Writable({
      write(chunk, _encoding, done) {
        log += chunk.toString();
        done();
      },
    });
    const config = resolveConfig(
      { dataDir, httpHost: '127.0.0.1', httpPort: '0', mqttHost: '127.0.0.1', mqttPort: '0' },
      {},
    );
    server = await startServer(config, createLogger('trace', capture));
    const admin = (await readFile(server.admin.tokenFile, 'utf8')).trim();
    secrets.set('admin token', admin);
    secrets.set('admin password', server.admin.created?.password ?? '');

    const upload = await fetch(`${server.httpUrl}/api/v1/packages?version=5.0.0&fileName=a.tapk`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/octet-stream' },
      body: await readFile(FIXTURE_TAPK),
    });
    expect(upload.status).toBe(201);

    const device = (await api(admin, 'POST', '/devices', { deviceId: 'redact-1' })).body;
    secrets.set('device password', device.password);
    const mqtt = await TestDevice.connect(device, { app: 'tijos-http-ota', version: '1.0.0' });
    await api(admin, 'POST', '/rollouts', { packageId: 1, target: { devices: ['redact-1'] } });
    const command = (await mqtt.nthCommand(1)) as InstallCommand;
    secrets.set('download token', command.url.slice(command.url.lastIndexOf('/') + 1));
    await (await fetch(command.url)).arrayBuffer();
    await mqtt.close();

    const password = 'Correct-Horse-Battery-Staple-42';
    secrets.set('operator password', password);
    await api(admin, 'POST', '/accounts', { username: 'redact-op', role: 'operator', password });
    const wrong = 'Wrong-Horse-Battery-Staple-43';
    secrets.set('mistyped password', wrong);
    await api(null, 'POST', '/login', { username: 'redact-op', password: wrong });
    const session = (await api(null, 'POST', '/login', { username: 'redact-op', password })).body
      .token;
    secrets.set('session token', session);
    await api(session, 'GET', '/session');
    const newPassword = 'Another-Horse-Battery-Staple-44';
    secrets.set('new password', newPassword);
    await api(session, 'POST', '/session/password', { currentPassword: password, newPassword });

    secrets.set('api token', (await api(admin, 'POST', '/tokens', { name: 'redact' })).body.token);
    const enrollment = await api(admin, 'POST', '/enrollment-tokens', {
      name: 'redact',
      tags: ['r'],
      maxUses: 1,
      expiresAt: Date.now() + 60_000,
    });
    secrets.set('enrollment token', enrollment.body.token);
    const enrolled = await api(null, 'POST', '/enroll', {
      enrollmentToken: enrollment.body.token,
      deviceId: 'redact-2',
    });
    secrets.set('enrolled device password', enrolled.body.password);
    // A wrong token is still somebody's guess at a secret: it must not be logged either.
    const guess = `tiota_${'G'.repeat(43)}`;
    secrets.set('guessed token', guess);
    await api(guess, 'GET', '/devices');
  });

  afterAll(async () => {
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('captured the server at work (the test would be empty otherwise)', () => {
    expect(log.split('\n').length).toBeGreaterThan(25);
    expect(log).toContain('/api/v1/login');
    expect(log).toContain('/api/v1/enroll');
  });

  it('wrote none of the secrets it handled', () => {
    expect(secrets.size).toBeGreaterThanOrEqual(12);
    const leaked = [...secrets]
      .filter(([, value]) => value && log.includes(value))
      .map(([name]) => name);
    expect(leaked).toEqual([]);
  });

  it('redacts authorization headers wherever they would be logged', () => {
    expect(log).not.toMatch(/Bearer [A-Za-z0-9_-]{20,}/);
  });

  it('censors secret fields however a log call nests them', () => {
    let out = '';
    const sink = new Writable({
      write(chunk, _encoding, done) {
        out += chunk.toString();
        done();
      },
    });
    const logger = createLogger('info', sink);
    logger.info({ password: 'p-1', token: 't-1', secret: 's-1' }, 'top level');
    logger.info({ body: { password: 'p-2', token: 't-2' }, creds: { secret: 's-2' } }, 'nested');
    logger.info({ req: { headers: { authorization: 'Bearer a-1', cookie: 'c-1' } } }, 'request');
    expect(out).toContain('[redacted]');
    for (const value of ['p-1', 't-1', 's-1', 'p-2', 't-2', 's-2', 'a-1', 'c-1']) {
      expect(out, value).not.toContain(value);
    }
  });
});
