import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mosquittoPasswordMatches } from '../../src/server/mqtt/mosquitto-password-hash.js';
import type { HelloMessage, InstallCommand } from '../../src/shared/protocol/index.js';
import { FIXTURE_TAPK, REPO_ROOT } from '../support/fixture.js';
import { startMosquitto, type MosquittoBroker } from '../support/mosquitto.js';
import { eventually, TestDevice } from '../support/mqtt-device.js';
import { rolloutCompleted, startTestServer, type TestServer } from '../support/test-server.js';

const SERVER_ACCOUNT = 'tiota-server';
const SERVER_PASSWORD = 'server-secret-for-tests';

/**
 * The external broker of docs/deploy.md: a real Mosquitto with deploy/mosquitto/mosquitto.conf,
 * whose password and ACL files the server keeps. Mosquitto, not Tiota, enforces them here.
 */
describe('external broker: Mosquitto with the project configuration', () => {
  let broker: MosquittoBroker;
  let server: TestServer;
  let packageId: number;

  beforeAll(async () => {
    broker = await startMosquitto();
    server = await startTestServer({
      database: 'postgres',
      config: { mqttUrl: broker.url(SERVER_ACCOUNT, SERVER_PASSWORD), ...broker.serverConfig },
    });
    const upload = await fetch(
      `${server.httpUrl}/api/v1/packages?version=2.0.0&fileName=ota.tapk`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${server.token}`,
          'content-type': 'application/octet-stream',
        },
        body: await readFile(FIXTURE_TAPK),
      },
    );
    expect(upload.status).toBe(201);
    packageId = (await upload.json()).id;
  });
  afterAll(async () => {
    await server?.stop();
    await broker?.stop();
  });

  async function register(id: string) {
    const res = await server.api('POST', '/devices', { deviceId: id });
    expect(res.status).toBe(201);
    return res.body as { deviceId: string; password: string; mqttUrl: string };
  }

  /** Connects once Mosquitto has reloaded the password file holding the new device. */
  function connect(
    creds: { deviceId: string; password: string; mqttUrl: string },
    hello?: HelloMessage,
  ) {
    return eventually(
      () => TestDevice.connect(creds, hello).catch(() => null),
      10_000,
      `${creds.deviceId} connects`,
    );
  }

  const version = async (id: string) => (await server.api('GET', `/devices/${id}`)).body.version;

  it('gives devices broker URLs without the server credentials', async () => {
    const creds = await register('mq-url');
    expect(creds.mqttUrl).toBe(broker.url());
  });

  it('writes the server account and each device to the password file as Mosquitto hashes', async () => {
    const creds = await register('mq-file');
    const line = await eventually(
      async () => {
        const text = await readFile(broker.passwordFile, 'utf8');
        return text.split('\n').find((l) => l.startsWith('mq-file:'));
      },
      10_000,
      'password file line',
    );
    expect(mosquittoPasswordMatches(creds.password, line.slice('mq-file:'.length))).toBe(true);
    const text = await readFile(broker.passwordFile, 'utf8');
    const serverLine = text.split('\n').find((l) => l.startsWith(`${SERVER_ACCOUNT}:`))!;
    expect(
      mosquittoPasswordMatches(SERVER_PASSWORD, serverLine.slice(SERVER_ACCOUNT.length + 1)),
    ).toBe(true);
    // The ACL written is the one docs/deploy.md shows (deploy/mosquitto/acl).
    const shipped = await readFile(path.join(REPO_ROOT, 'deploy/mosquitto/acl'), 'utf8');
    expect(await readFile(broker.aclFile, 'utf8')).toBe(shipped);
  });

  it("does not let device A read device B's commands or speak for B", async () => {
    const a = await connect(await register('mq-a'), { app: 'demo', version: '1.0.0' });
    const b = await connect(await register('mq-b'), { app: 'demo', version: '1.0.0' });
    await eventually(async () => (await version('mq-b')) === '1.0.0', 5000, 'hello of B');

    // Mosquitto 2.0 may grant the subscription; its ACL then withholds every message on it.
    for (const filter of ['tiota/v1/d/mq-b/cmd', 'tiota/v1/d/+/cmd', '#']) {
      await a.client.subscribeAsync(filter, { qos: 1 }).catch(() => undefined);
    }
    const seenByA: string[] = [];
    a.client.on('message', (topic) => seenByA.push(topic));
    const rollout = await server.api('POST', '/rollouts', {
      packageId,
      target: { devices: ['mq-b'] },
    });
    expect(rollout.status).toBe(201);
    expect(await b.nthCommand(1)).toMatchObject({ op: 'install', version: '2.0.0' });
    await new Promise((r) => setTimeout(r, 300));
    expect(seenByA).toEqual([]);

    // A hello in B's name is dropped by the broker; A's own hello, sent after it, arrives.
    const spoof = JSON.stringify({ app: 'demo', version: '6.6.6' });
    await a.client.publishAsync('tiota/v1/d/mq-b/hello', spoof, { qos: 1 }).catch(() => undefined);
    await a.client
      .publishAsync('tiota/v1/d/mq-b/status', '{"cmd":"a1.1","state":"failed"}', { qos: 1 })
      .catch(() => undefined);
    await a.hello({ app: 'demo', version: '1.0.1' });
    await eventually(async () => (await version('mq-a')) === '1.0.1', 5000, "A's own hello");
    expect(await version('mq-b')).toBe('1.0.0');
    expect((await server.api('GET', `/rollouts/${rollout.body.id}`)).body.counts.failed).toBe(0);
    await a.close();
    await b.close();
  });

  it('cuts a revoked device off and refuses it from then on', async () => {
    const creds = await register('mq-revoked');
    const device = await connect(creds, { app: 'demo', version: '1.0.0' });
    expect((await server.api('POST', '/devices/mq-revoked/revoke')).status).toBeLessThan(300);

    await eventually(async () => !device.client.connected, 10_000, 'revoked device disconnected');
    await expect(TestDevice.connect(creds)).rejects.toThrow(/Not authorized|Bad User Name/i);
  });

  it('comes back after Mosquitto restarts: reconnects, subscribes again, hears devices', async () => {
    const creds = await register('mq-restart');
    await connect(creds, { app: 'demo', version: '1.0.0' }).then((d) => d.close());
    await broker.restart();
    await eventually(async () => (await fetch(`${server.httpUrl}/healthz`)).ok, 10_000, 'healthy');
    // The server's subscriptions may trail its reconnect by a moment: say hello until heard.
    const device = await connect(creds);
    await eventually(
      async () => {
        await device.hello({ app: 'demo', version: '1.0.2' });
        return (await version('mq-restart')) === '1.0.2';
      },
      10_000,
      'hello heard',
    );
    await device.close();
  });

  it('runs the deploy flow end to end, with presence from the last will', async () => {
    const creds = await register('mq-flow');
    const device = await connect(creds, {
      app: 'tijos-http-ota',
      version: '1.0.0',
      appId: 1,
      profile: 'tijos',
    });
    await eventually(
      async () => (await server.api('GET', '/devices/mq-flow')).body.online,
      5000,
      'online',
    );

    const rollout = await server.api('POST', '/rollouts', {
      packageId,
      target: { devices: ['mq-flow'] },
    });
    const command = (await device.nthCommand(1)) as InstallCommand;
    const download = await fetch(command.url);
    expect(download.status).toBe(200);
    expect(Number(download.headers.get('content-length'))).toBe(command.size);
    await download.arrayBuffer();
    await device.status({ cmd: command.id, state: 'restarting' });

    // A restart drops the connection without DISCONNECT: Mosquitto publishes the last will.
    device.client.stream.destroy();
    await eventually(
      async () => !(await server.api('GET', '/devices/mq-flow')).body.online,
      10_000,
      'offline by will',
    );

    const again = await connect(creds, {
      app: 'tijos-http-ota',
      version: '2.0.0',
      appId: 2,
      profile: 'tijos',
    });
    const done = await rolloutCompleted(server.api, rollout.body.id, 10_000);
    expect(done.counts.succeeded).toBe(1);
    await again.close();
    await device.close().catch(() => undefined);
  });
});
