/**
 * Ingestion: status reports handled per second. 10,000 devices each with a command of a
 * running rollout report progress (accepted, downloading with growing byte counts,
 * downloaded, installing) as fast as the broker acknowledges them; the rate is counted where
 * the server finished handling them (tiota_device_messages_handled_total). Writes "Ingestion".
 *
 *   npm run bench:ingestion   BENCH_DEVICES=10000 BENCH_REPORTS=10 BENCH_RUNS=3
 *                             BENCH_DATABASES=sqlite,postgres BENCH_BROKERS=embedded,mosquitto
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
import type { ServerProcess } from './lib/server-process.js';
import { metric, oneBatchSettings, uploadFixture } from './lib/tiota-api.js';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 10_000);
const REPORTS = Number(process.env.BENCH_REPORTS ?? 10);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const TARGET: Record<DatabaseKind, number> = { sqlite: 20_000, postgres: 10_000 };
const HANDLED = 'tiota_device_messages_handled_total';
/** A run is measured over at most this long (the rest of its backlog is drained untimed). */
const RUN_LIMIT_MS = 60_000;

interface Run {
  readonly perSecond: number;
  readonly cpu: number;
  readonly seconds: number;
}

async function measure(
  database: DatabaseKind,
  broker: BrokerKind,
): Promise<{ runs: Run[]; peak: number }> {
  const scenario = await startScenario({
    database,
    broker,
    devices: DEVICES,
    behaviour: 'count',
    workers: 2,
    // Every device gets its command at once (a command in flight counts as a download).
    env: { TIOTA_MAX_DOWNLOADS: String(DEVICES), TIOTA_MAX_DOWNLOADS_PER_PACKAGE: String(DEVICES) },
  });
  const { server, fleet } = scenario;
  try {
    const pkg = await uploadFixture(server, '2.0.0');
    const target = { tags: [BENCH_TAG] };
    const settings = await oneBatchSettings(server, pkg.id, target);
    const received = fleet.allReceived(120_000);
    await server.api('POST', '/rollouts', { packageId: pkg.id, target, settings });
    await received;
    await new Promise((r) => setTimeout(r, 1000));

    const runs: Run[] = [];
    const total = fleet.connected * REPORTS;
    for (let i = 0; i < RUNS; i++) {
      const before = await metric(server, HANDLED, 'kind="status"');
      const cpu0 = server.cpuSeconds();
      const t0 = Date.now();
      const acked = fleet.ingest(REPORTS, 600_000);
      const end = await handledBy(server, before + total, RUN_LIMIT_MS);
      const seconds = (end.at - t0) / 1000;
      const handled = end.count - before;
      runs.push({ perSecond: handled / seconds, cpu: server.cpuSeconds() - cpu0, seconds });
      console.log(
        `  run ${i + 1}: ${fmt(handled)} of ${fmt(total)} reports in ${seconds.toFixed(2)} s = ${fmt(handled / seconds)}/s`,
      );
      // A slow server still has a backlog: let it finish before the next run starts.
      await handledBy(server, before + total, 600_000);
      const sent = await acked;
      if (sent.failed) console.warn(`  ${sent.failed} reports were not acknowledged`);
    }
    return { runs, peak: server.memory().peak };
  } finally {
    await scenario.stop();
  }
}

/**
 * Polls the handled counter until it reaches `count` or the time is up; returns the count and
 * when it was read (a slow server is measured over the first `timeoutMs`).
 */
async function handledBy(server: ServerProcess, count: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const at = Date.now();
    const handled = await metric(server, HANDLED, 'kind="status"');
    if (handled >= count || at > deadline) return { count: handled, at };
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function main(): Promise<void> {
  const rows: string[][] = [];
  for (const { database, broker } of setups()) {
    console.log(`- ${database}, ${broker} broker`);
    const { runs, peak } = await measure(database, broker);
    const rate = median(runs.map((r) => r.perSecond));
    const cpu = median(runs.map((r) => r.cpu));
    rows.push([
      ...setupLabels(database, broker),
      `${fmt(rate)}/s`,
      runs.map((r) => fmt(r.perSecond)).join(' / '),
      `${fmt((cpu * 1e6) / (DEVICES * REPORTS))} µs`,
      mib(peak),
      verdict(rate, TARGET[database], '/s', false),
    ]);
  }
  const out = [
    machineFacts(),
    '',
    `${fmt(DEVICES)} devices, each with a sent command of a running rollout, publish ${REPORTS} ` +
      "status reports each (QoS 1, the next after the broker's PUBACK): `accepted`, " +
      '`downloading` with growing `bytes`, `downloaded`, `installing`. Rate = reports / time ' +
      'from the first publish until the server counted the last one handled; ' +
      `median of ${RUNS} runs on one server. CPU per report = server CPU time / reports.`,
    '',
    table(
      [
        'database',
        'broker',
        'reports handled',
        'runs (/s)',
        'server CPU per report',
        'peak RSS',
        'target',
      ],
      rows,
    ),
  ].join('\n');
  console.log(`\n${out}\n`);
  writeSection('Ingestion', 'ingestion', out);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
