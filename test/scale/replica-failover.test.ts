import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEASE_MS } from '../../src/server/domain/rollout-lease.js';
import { FIXTURE_TAPK } from '../support/fixture.js';
import { startMosquitto, type MosquittoBroker } from '../support/mosquitto.js';
import { eventually } from '../support/mqtt-device.js';
import { freePort, spawnTiota, type SpawnedProcess } from '../support/processes.js';
import { startS3Server, S3_CREDENTIALS, type S3Server } from '../support/s3-server.js';
import { callApi, createPgDatabase, rolloutCompleted } from '../support/test-server.js';
import { startTcpBalancer, type TcpBalancer } from './support/tcp-balancer.js';
import { TijosLikeDevice } from './support/tijos-like-device.js';

const DEVICES = 24;
const SERVER_PASSWORD = 'replica-account-secret';
/** Batches of 4 (canary), 10 and 10; no soak, no error pause, every device must succeed. */
const SETTINGS = {
  canary: 4,
  batchStrategy: 'fixed',
  batchSize: 10,
  soakSeconds: 0,
  errorThreshold: null,
  successThreshold: 100,
  maxRetries: 2,
  retryBackoffSeconds: 1,
};

interface Replica {
  readonly id: string;
  readonly port: number;
  readonly process: SpawnedProcess;
}

/**
 * The "done when": two `tiota server` processes share PostgreSQL, a real Mosquitto
 * (deploy/mosquitto/mosquitto.conf) and S3-protocol storage behind one balancer address; a
 * rollout runs to TiJOS-like devices; the replica holding the rollout is killed with SIGKILL
 * in the middle of a batch; the other takes the lease over and finishes, every device counted
 * exactly once. Runs the compiled CLI (`npm test` builds dist/ first).
 */
describe('two server replicas, one killed mid-batch', () => {
  let database: Awaited<ReturnType<typeof createPgDatabase>>;
  let sql: pg.Client;
  let broker: MosquittoBroker;
  let s3: S3Server;
  let balancer: TcpBalancer;
  const replicas = new Map<string, Replica>();
  const dirs: string[] = [];
  const devices: TijosLikeDevice[] = [];
  let token: string;

  beforeAll(async () => {
    database = await createPgDatabase();
    sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
    broker = await startMosquitto();
    s3 = await startS3Server();
    balancer = await startTcpBalancer(() => [...replicas.values()].map((r) => r.port));

    // The first replica makes the admin account; the second finds it.
    const a = await startReplica('replica-a');
    token = (await readFile(path.join(dirs[0], 'admin-token'), 'utf8')).trim();
    await startReplica('replica-b');
    expect(a.process.output()).toContain('Tiota is running');
  });

  afterAll(async () => {
    await Promise.all(devices.map((d) => d.stop().catch(() => undefined)));
    for (const replica of replicas.values()) await replica.process.stop('SIGKILL');
    await balancer?.close();
    await sql?.end();
    await s3?.stop();
    await broker?.stop();
    await database?.drop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  async function startReplica(id: string): Promise<Replica> {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), `tiota-${id}-`));
    dirs.push(dataDir);
    const port = await freePort();
    const process = spawnTiota(
      [
        'server',
        ...['--replica-id', id, '--data-dir', dataDir, '--http-host', '127.0.0.1'],
        ...['--http-port', String(port), '--public-url', balancer.url],
        ...['--database-url', database.url, '--storage-url', s3.storageUrl('fleet')],
        ...['--mqtt-url', broker.url('tiota-server', SERVER_PASSWORD)],
        ...['--mosquitto-password-file', broker.passwordFile],
        ...['--mosquitto-acl-file', broker.aclFile, '--mosquitto-pid-file', broker.pidFile],
      ],
      { ...S3_CREDENTIALS, TIOTA_LOG_LEVEL: 'info' },
    );
    await process.waitFor('Tiota is running', 30_000);
    const replica = { id, port, process };
    replicas.set(id, replica);
    return replica;
  }

  const api = <T = any>(method: string, route: string, body?: unknown) =>
    callApi<T>(balancer.url, token, method, route, body);

  const rolloutRow = async (id: number) =>
    (await sql.query('select status, current_batch, lease_owner from rollouts where id = $1', [id]))
      .rows[0] as { status: string; current_batch: number; lease_owner: string | null };

  it('finishes the rollout on the surviving replica, every device counted once', async () => {
    const upload = await fetch(`${balancer.url}/api/v1/packages?version=2.0.0&fileName=ota.tapk`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      body: await readFile(FIXTURE_TAPK),
    });
    expect(upload.status).toBe(201);
    const pkg = await upload.json();

    for (let i = 0; i < DEVICES; i++) {
      const creds = (await api('POST', '/devices', { deviceId: `fleet-${i}`, tags: ['fleet'] }))
        .body;
      devices.push(new TijosLikeDevice(creds, pkg.app, '1.0.0'));
    }
    await Promise.all(devices.map((d) => d.boot()));
    await eventually(
      async () => (await api('GET', '/devices?online=true&tag=fleet')).body.total === DEVICES,
      15_000,
      'fleet online',
    );

    const created = await api('POST', '/rollouts', {
      packageId: pkg.id,
      target: { tags: ['fleet'] },
      settings: SETTINGS,
    });
    expect(created.status).toBe(201);
    const rolloutId: number = created.body.id;

    // Two devices of the second batch hold their command past the takeover (a user app busy
    // with something else), so the survivor finds their actions `sent` and publishes the same
    // command ids again: the repeats the devices must ignore.
    const second = await sql.query(
      `select d.device_id from actions a join devices d on d.id = a.device_row_id
       where a.rollout_id = $1 and a.batch = 1 order by a.id limit 2`,
      [rolloutId],
    );
    const slow = devices.filter((d) => second.rows.some((r) => r.device_id === d.creds.deviceId));
    for (const device of slow) device.startDelayMs = LEASE_MS + 6_000;

    // Mid-batch: the second batch runs, its two slow devices still hold their commands. The
    // kill comes when no report is in flight: a replica killed while it handles one loses it
    // (clean sessions; docs/deploy.md, "What a failure does to a running rollout").
    await eventually(
      async () => {
        const r = (await api('GET', `/rollouts/${rolloutId}`)).body;
        const batch = r.batches.find((b: { batch: number }) => b.batch === 1);
        return (
          r.currentBatch === 1 &&
          batch?.counts.succeeded === batch.size - slow.length &&
          batch?.counts.sent === slow.length
        );
      },
      30_000,
      'second batch under way',
    );
    const holder = (await rolloutRow(rolloutId)).lease_owner!;
    expect(replicas.has(holder)).toBe(true);
    const killedAt = Date.now();
    await replicas.get(holder)!.process.stop('SIGKILL');
    replicas.delete(holder);
    const survivor = [...replicas.keys()][0];

    // Taken over once the lease runs out (LEASE_MS after the last renewal), plus a pass.
    await eventually(
      async () => (await rolloutRow(rolloutId)).lease_owner === survivor,
      LEASE_MS + 5_000,
      'lease taken over',
    );
    const takeoverMs = Date.now() - killedAt;
    expect(takeoverMs).toBeLessThanOrEqual(LEASE_MS + 2_000);

    const done = await rolloutCompleted(api, rolloutId, 40_000).catch(async (error: Error) => {
      const open = await sql.query(
        `select a.batch, a.state, a.attempt, a.error_code, d.device_id, d.online from actions a
         join devices d on d.id = a.device_row_id where a.rollout_id = $1 and a.state <> 'succeeded'`,
        [rolloutId],
      );
      const log = replicas
        .get(survivor)!
        .process.output()
        .split('\n')
        .filter((line) => !line.includes('"component":"http"'))
        .slice(-30)
        .join('\n');
      const row = JSON.stringify(await rolloutRow(rolloutId));
      error.message += `\nrollout: ${row}\nunfinished: ${JSON.stringify(open.rows)}\n${survivor}:\n${log}`;
      throw error;
    });
    await Promise.all(devices.map((d) => d.settled()));

    // Counted exactly once: one action per device, succeeded, and one success event each.
    expect(done.counts.succeeded).toBe(DEVICES);
    const actions = await sql.query(
      `select a.device_row_id, a.state, (select count(*) from device_events e
         where e.action_id = a.id and e.kind = 'succeeded') as successes
       from actions a where a.rollout_id = $1`,
      [rolloutId],
    );
    expect(actions.rows).toHaveLength(DEVICES);
    expect(new Set(actions.rows.map((r) => r.device_row_id)).size).toBe(DEVICES);
    for (const row of actions.rows) {
      expect(row.state).toBe('succeeded');
      expect(Number(row.successes)).toBe(1);
    }
    // Every device runs the new version, and executed no command id twice, repeats or not.
    for (const device of devices) {
      expect(device.version).toBe('2.0.0');
      expect(new Set(device.executed).size).toBe(device.executed.length);
    }
    const repeats = devices.reduce((n, d) => n + d.received.length - new Set(d.received).size, 0);
    for (const device of slow)
      expect(device.received.length).toBeGreaterThan(device.executed.length);
    console.info(
      `failover: ${holder} killed, ${survivor} took over in ${takeoverMs} ms; ` +
        `${repeats} repeated command(s) received and ignored; ` +
        `${devices.reduce((n, d) => n + d.failedDownloads, 0)} failed download(s) retried`,
    );
  });
});
