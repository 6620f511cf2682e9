/**
 * Fan-out: 10,000 connected devices; time from "start rollout" (the API call) until every
 * device has received its install command. With the embedded broker, with Mosquitto (server
 * in external-broker mode), and the baseline: one client publishing the same 10,000 commands
 * straight to Mosquitto. Writes the "Fan-out" section of docs/benchmarks.md.
 *
 *   npm run bench:fanout      BENCH_DEVICES=10000 BENCH_RUNS=3 BENCH_CPU_PROFILE=<dir>
 */
import mqtt from 'mqtt';
import { Fleet } from './lib/fleet.js';
import { machineFacts } from './lib/machine.js';
import { startMosquitto, type Mosquitto } from './lib/mosquitto.js';
import { fmt, median, table, verdict, writeSection } from './lib/report.js';
import { BENCH_SECRET, BENCH_TAG, deviceIds, seedDevices } from './lib/seed.js';
import { startServerProcess, type ServerProcess } from './lib/server-process.js';
import { FIXTURE_APP, metric, oneBatchSettings, uploadFixture } from './lib/tiota-api.js';
import path from 'node:path';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const WORKERS = 2;
const TIMEOUT_MS = 60_000;
const ids = deviceIds(DEVICES);

interface Run {
  readonly ms: number;
  readonly cpu: number;
}

async function main(): Promise<void> {
  console.log(`fan-out: ${DEVICES} devices, ${RUNS} runs per case`);
  const embedded = await tiotaCase('embedded');
  const mosquitto = await startMosquitto();
  let external: Run[];
  let baseline: Run[];
  try {
    external = await tiotaCase('mosquitto', mosquitto);
    baseline = await baselineCase(mosquitto);
  } finally {
    await mosquitto.stop();
  }

  const base = median(baseline.map((r) => r.ms));
  const row = (label: string, runs: Run[], withRatio: boolean) => {
    const ms = median(runs.map((r) => r.ms));
    return [
      label,
      `${fmt(ms)} ms`,
      runs.map((r) => fmt(r.ms)).join(' / '),
      runs[0].cpu >= 0 ? `${fmt(median(runs.map((r) => r.cpu)), 2)} s` : '—',
      withRatio ? `${(ms / base).toFixed(2)}×` : '1.00×',
      withRatio ? `${verdict(ms, 1000, ' ms')}; ${verdict(ms / base, 1.2, '×')}` : '—',
    ];
  };
  const rows = [
    row('Tiota, embedded broker (Aedes)', embedded, true),
    row('Tiota, external Mosquitto', external, true),
    row('baseline: one client → Mosquitto', baseline, false),
  ];
  const out = [
    machineFacts(),
    '',
    `${fmt(DEVICES)} devices connected (lean MQTT 3.1.1 clients in ${WORKERS} processes, QoS 1), one ` +
      `rollout of the fixture to all of them in one batch. Time from the create-rollout API call ` +
      `until the last device received its command; median of ${RUNS} runs (all runs listed). ` +
      `Server CPU = user+system seconds of the server process over the same interval.`,
    '',
    table(
      [
        'case',
        'median',
        'runs (ms)',
        'server CPU',
        'vs baseline',
        'target (≤ 1 s, ≤ 1.2× baseline)',
      ],
      rows,
    ),
  ].join('\n');
  console.log(`\n${out}\n`);
  writeSection('Fan-out', 'fanout', out);
}

async function tiotaCase(kind: 'embedded' | 'mosquitto', broker?: Mosquitto): Promise<Run[]> {
  console.log(`- Tiota, ${kind}`);
  const server = await startServer(broker);
  const fleet = await connectFleet(server.mqttUrl);
  try {
    await waitForHellos(server, DEVICES);
    const pkg = await uploadFixture(server, '2.0.0');
    const target = { tags: [BENCH_TAG] };
    const settings = await oneBatchSettings(server, pkg.id, target);
    const runs: Run[] = [];
    for (let i = 0; i < RUNS; i++) {
      await fleet.reset();
      const received = fleet.allReceived(TIMEOUT_MS);
      const cpu0 = server.cpuSeconds();
      const t0 = Date.now();
      const rollout = await server.api<{ id: number }>('POST', '/rollouts', {
        packageId: pkg.id,
        target,
        settings,
      });
      const last = await received;
      runs.push({ ms: last - t0, cpu: server.cpuSeconds() - cpu0 });
      console.log(`  run ${i + 1}: ${last - t0} ms`);
      // Clear the way for the next run (outside the timed part): cancel, and wait until the
      // server has sent every cancel and gone quiet, so no run pays for the last one's cleanup.
      await server.api('POST', `/rollouts/${rollout.id}/cancel`);
      await untilQuiet(server);
    }
    return runs;
  } finally {
    await fleet.stop();
    await server.stop();
  }
}

async function baselineCase(broker: Mosquitto): Promise<Run[]> {
  console.log('- baseline: publishing straight to Mosquitto');
  const fleet = await connectFleet(broker.url);
  const publisher = await mqtt.connectAsync(broker.url, {
    protocolVersion: 5,
    clean: true,
    clientId: 'bench-baseline',
  });
  try {
    // A payload of the size the server sends: an install command with a 51-character token.
    const payload = (i: number) =>
      JSON.stringify({
        v: 1,
        op: 'install',
        id: `a${i + 1}.1`,
        app: FIXTURE_APP,
        version: '2.0.0',
        url: `http://127.0.0.1:40000/d/${'A'.repeat(51)}`,
        size: 20384,
        sha256: 'b'.repeat(64),
        sig: 'c'.repeat(88),
        exp: Math.floor(Date.now() / 1000) + 86400,
      });
    const runs: Run[] = [];
    for (let i = 0; i < RUNS; i++) {
      await fleet.reset();
      const received = fleet.allReceived(TIMEOUT_MS);
      const t0 = Date.now();
      await Promise.all(
        ids.map((id, n) => publisher.publishAsync(`tiota/v1/d/${id}/cmd`, payload(n), { qos: 1 })),
      );
      const last = await received;
      runs.push({ ms: last - t0, cpu: -1 });
      console.log(`  run ${i + 1}: ${last - t0} ms`);
    }
    return runs;
  } finally {
    await publisher.endAsync();
    await fleet.stop();
  }
}

async function startServer(broker?: Mosquitto): Promise<ServerProcess> {
  const { mkdtemp } = await import('node:fs/promises');
  const os = await import('node:os');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tiota-bench-'));
  await seedDevices(`sqlite:${path.join(dataDir, 'tiota.db')}`, ids, {
    app: FIXTURE_APP,
    version: '1.0.0',
  });
  const profile = process.env.BENCH_CPU_PROFILE;
  return startServerProcess({
    dataDir,
    mqttUrl: broker?.url,
    // Every command counts as a download in flight until the device moves on, and these
    // devices never do: the caps must let all of them be sent at once.
    env: { TIOTA_MAX_DOWNLOADS: String(DEVICES), TIOTA_MAX_DOWNLOADS_PER_PACKAGE: String(DEVICES) },
    cpuProfileDir: profile ? path.resolve(profile) : undefined,
  });
}

function connectFleet(mqttUrl: string): Promise<Fleet> {
  const url = new URL(mqttUrl);
  return Fleet.start({
    ids,
    workers: WORKERS,
    setup: {
      host: url.hostname,
      port: Number(url.port),
      password: BENCH_SECRET,
      keepaliveSeconds: 0,
      behaviour: 'count',
      app: FIXTURE_APP,
      version: '1.0.0',
      restartMs: 0,
    },
  }).then((fleet) => {
    console.log(`  ${fleet.connected} devices connected in ${fmt(fleet.connectMs)} ms`);
    return fleet;
  });
}

/** Every hello handled, so the timed part measures commands only. */
async function waitForHellos(server: ServerProcess, n: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  while ((await metric(server, 'tiota_device_messages_total', 'kind="hello"')) < n) {
    if (Date.now() > deadline) throw new Error('the server did not take every hello in time');
    await new Promise((r) => setTimeout(r, 250));
  }
  await new Promise((r) => setTimeout(r, 1000));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

/** Waits until the server uses under 5 % of a core for a whole second (at most 60 s). */
async function untilQuiet(server: { cpuSeconds(): number }): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const before = server.cpuSeconds();
    await new Promise((r) => setTimeout(r, 1000));
    if (server.cpuSeconds() - before < 0.05 || Date.now() > deadline) return;
  }
}
