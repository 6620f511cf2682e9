/**
 * The setup most benchmarks share: a seeded database (SQLite file or fresh PostgreSQL
 * database), the server as a measured process, and a connected fleet whose hellos the
 * server has taken.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Fleet } from './fleet.js';
import { startMosquitto } from './mosquitto.js';
import { fmt } from './report.js';
import type { Behaviour } from './sim-device.js';
import { BENCH_SECRET, createPgDatabase, deviceIds, seedDevices } from './seed.js';
import { startServerProcess, type ServerProcess } from './server-process.js';
import { FIXTURE_APP, metric } from './tiota-api.js';

export type DatabaseKind = 'sqlite' | 'postgres';
/** The embedded broker (Aedes, in the server process) or a Mosquitto of the bench's own. */
export type BrokerKind = 'embedded' | 'mosquitto';

export interface Scenario {
  readonly server: ServerProcess;
  readonly fleet: Fleet;
  readonly ids: readonly string[];
  /** Server RSS before any device connected, bytes. */
  readonly idleRss: number;
  stop(): Promise<void>;
}

export interface ScenarioOptions {
  readonly database: DatabaseKind;
  readonly devices: number;
  readonly behaviour: Behaviour;
  readonly workers: number;
  readonly env?: Record<string, string>;
  /** Default: embedded. */
  readonly broker?: BrokerKind;
  readonly keepaliveSeconds?: number;
  readonly localAddresses?: readonly string[];
}

export async function startScenario(options: ScenarioOptions): Promise<Scenario> {
  const ids = deviceIds(options.devices);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tiota-bench-'));
  const pg = options.database === 'postgres' ? await createPgDatabase() : null;
  const databaseUrl = pg?.url ?? `sqlite:${path.join(dataDir, 'tiota.db')}`;
  await seedDevices(databaseUrl, ids, { app: FIXTURE_APP, version: '1.0.0' });

  const mosquitto = options.broker === 'mosquitto' ? await startMosquitto() : undefined;
  const profile = process.env.BENCH_CPU_PROFILE;
  const server = await startServerProcess({
    dataDir,
    databaseUrl,
    mqttUrl: mosquitto?.url,
    env: options.env,
    cpuProfileDir: profile ? path.resolve(profile) : undefined,
  });
  const idleRss = server.memory().rss;
  let fleet: Fleet | null = null;
  const stop = async () => {
    if (server.exitCode() !== null) console.error(`server exited early:\n${server.logTail()}`);
    await fleet?.stop();
    await server.stop();
    await mosquitto?.stop();
    await pg?.drop();
  };
  try {
    const url = new URL(server.mqttUrl);
    fleet = await Fleet.start({
      ids,
      workers: options.workers,
      localAddresses: options.localAddresses,
      setup: {
        host: url.hostname,
        port: Number(url.port),
        password: BENCH_SECRET,
        keepaliveSeconds: options.keepaliveSeconds ?? 0,
        behaviour: options.behaviour,
        app: FIXTURE_APP,
        version: '1.0.0',
        restartMs: 100,
      },
    });
    console.log(`  ${fmt(fleet.connected)} devices connected in ${fmt(fleet.connectMs)} ms`);
    await waitForHellos(server, fleet.connected);
    return { server, fleet, ids, idleRss, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Every hello handled (or 120 s passed), so timed parts measure only what they name. */
export async function waitForHellos(server: ServerProcess, n: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  const name = 'tiota_device_messages_handled_total';
  while ((await metric(server, name, 'kind="hello"')) < n) {
    if (Date.now() > deadline) throw new Error('the server did not take every hello in time');
    await new Promise((r) => setTimeout(r, 250));
  }
  await new Promise((r) => setTimeout(r, 500));
}

export function databaseKinds(): DatabaseKind[] {
  return (process.env.BENCH_DATABASES ?? 'sqlite,postgres').split(',') as DatabaseKind[];
}

/** The brokers a bench runs over: BENCH_BROKERS, else both. */
export function brokerKinds(): BrokerKind[] {
  return (process.env.BENCH_BROKERS ?? 'embedded,mosquitto').split(',') as BrokerKind[];
}

/** Every database with every broker, in that order. */
export function setups(): Array<{ database: DatabaseKind; broker: BrokerKind }> {
  return databaseKinds().flatMap((database) =>
    brokerKinds().map((broker) => ({ database, broker })),
  );
}

export function setupLabels(database: DatabaseKind, broker: BrokerKind): [string, string] {
  return [
    database === 'sqlite' ? 'SQLite' : 'PostgreSQL',
    broker === 'embedded' ? 'embedded (Aedes)' : 'Mosquitto',
  ];
}
