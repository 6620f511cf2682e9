/**
 * End-to-end rollout: the fixture .tapk to 10,000 simulated TiJOS devices in one batch, until
 * every device is confirmed (reported the new version after its restart). SQLite and
 * PostgreSQL; wall time, server CPU time, peak RSS. Writes "End-to-end rollout".
 *
 *   npm run bench:rollout     BENCH_DEVICES=10000 BENCH_RUNS=1 BENCH_DATABASES=sqlite,postgres
 *                             BENCH_BROKERS=embedded,mosquitto
 *                             BENCH_MAX_DOWNLOADS (server download cap; its default, 1000, if unset)
 */
import { machineFacts } from './lib/machine.js';
import { fmt, median, mib, table, verdict, writeSection } from './lib/report.js';
import {
  setupLabels,
  setups,
  startScenario,
  type BrokerKind,
  type DatabaseKind,
} from './lib/scenario.js';
import { BENCH_TAG } from './lib/seed.js';
import { oneBatchSettings, uploadFixture, watchRollout } from './lib/tiota-api.js';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 1);
const TIMEOUT_MS = 180_000;

// Loopback has no 100 Mbit/s link to share, so the bandwidth the pacing plans with is raised.
// The server's download cap stays at its default (1000 in flight): within the one batch, the
// engine sends commands as download slots free, as it would for an operator's fleet.
const SERVER_ENV = {
  TIOTA_BANDWIDTH: String(10 * 1024 ** 3),
  ...(process.env.BENCH_MAX_DOWNLOADS && {
    TIOTA_MAX_DOWNLOADS: process.env.BENCH_MAX_DOWNLOADS,
    TIOTA_MAX_DOWNLOADS_PER_PACKAGE: process.env.BENCH_MAX_DOWNLOADS,
  }),
};

interface Result {
  readonly seconds: number;
  readonly cpu: number;
  readonly peak: number;
  readonly succeeded: number;
  readonly other: string;
  readonly downloadsFailed: number;
}

async function runOnce(database: DatabaseKind, broker: BrokerKind): Promise<Result> {
  const scenario = await startScenario({
    database,
    devices: DEVICES,
    behaviour: 'tijos',
    workers: 2,
    env: SERVER_ENV,
    broker,
  });
  const { server, fleet } = scenario;
  try {
    const pkg = await uploadFixture(server, '2.0.0');
    const target = { tags: [BENCH_TAG] };
    const settings = await oneBatchSettings(server, pkg.id, target);
    const cpu0 = server.cpuSeconds();
    const t0 = Date.now();
    const rollout = await server.api<{ id: number }>('POST', '/rollouts', {
      packageId: pkg.id,
      target,
      settings,
    });
    const { view, timedOut } = await watchRollout(
      server,
      rollout.id,
      (v) => v.counts.succeeded >= DEVICES || v.status !== 'running',
      TIMEOUT_MS,
    );
    const seconds = (Date.now() - t0) / 1000;
    const stats = await fleet.stats();
    const other = Object.entries(view.counts)
      .filter(([state, n]) => n > 0 && state !== 'succeeded')
      .map(([state, n]) => `${state} ${n}`)
      .join(', ');
    if (timedOut) console.warn(`  timed out after ${TIMEOUT_MS / 1000} s`);
    return {
      seconds,
      cpu: server.cpuSeconds() - cpu0,
      peak: server.memory().peak,
      succeeded: view.counts.succeeded,
      other: other || '—',
      downloadsFailed: stats.downloadsFailed,
    };
  } finally {
    await scenario.stop();
  }
}

async function main(): Promise<void> {
  const rows: string[][] = [];
  for (const { database, broker } of setups()) {
    const results: Result[] = [];
    for (let i = 0; i < RUNS; i++) {
      console.log(`- ${database}, ${broker} broker, run ${i + 1}`);
      const r = await runOnce(database, broker);
      console.log(
        `  ${r.succeeded} confirmed in ${r.seconds.toFixed(1)} s, CPU ${r.cpu.toFixed(1)} s, peak ${mib(r.peak)}`,
      );
      results.push(r);
    }
    const mid = results.slice().sort((a, b) => a.seconds - b.seconds)[results.length >> 1];
    const peak = median(results.map((r) => r.peak));
    rows.push([
      ...setupLabels(database, broker),
      `${fmt(mid.succeeded)} / ${fmt(DEVICES)}`,
      `${mid.seconds.toFixed(1)} s`,
      results.map((r) => r.seconds.toFixed(1)).join(' / '),
      `${fmt(median(results.map((r) => r.cpu)), 1)} s`,
      mib(peak),
      `${mid.other}; ${mid.downloadsFailed} failed downloads`,
      `${verdict(mid.seconds, 20, ' s')}; RSS ${verdict(peak / 2 ** 20, 400, ' MiB')}`,
    ]);
  }
  const out = [
    machineFacts(),
    '',
    `The fixture (20,384 bytes) to ${fmt(DEVICES)} simulated TiJOS devices in one batch: each ` +
      'device reports `downloading`, does one plain GET, drops its connection (restart, last ' +
      'will), reconnects 100 ms later and says hello with the new version. Wall time from the ' +
      'create-rollout call until the API counts every device `succeeded` (polled every 200 ms); ' +
      'server CPU (user+system) over the same time; peak RSS (VmHWM) of the server process. ' +
      'Bandwidth raised for loopback (TIOTA_BANDWIDTH=10 GiB/s); the download cap stays at its ' +
      `default, ${process.env.BENCH_MAX_DOWNLOADS ?? '1000'} in flight, so the engine sends commands ` +
      'as slots free. The simulated devices connect from 16 source addresses (127.0.0.16–31). ' +
      `Median of ${RUNS} run(s).`,
    '',
    table(
      [
        'database',
        'broker',
        'confirmed',
        'wall time',
        'runs (s)',
        'server CPU',
        'peak RSS',
        'other states',
        'target (≤ 20 s, < 400 MiB)',
      ],
      rows,
    ),
  ].join('\n');
  console.log(`\n${out}\n`);
  writeSection('End-to-end rollout', 'rollout', out);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
