/**
 * Connections: how many simulated devices one server process holds connected (each with
 * its subscription, hello and last will), and its memory. The target is 100,000; a process
 * here may open at most RLIMIT_NOFILE files (hard limit, not raisable without privileges),
 * so the bench holds as many as that allows and states the per-connection cost. Writes
 * "Connections".
 *
 *   npm run bench:connections   BENCH_DEVICES=<n> (default: 100,000 or what the limit allows)
 */
import { readFileSync } from 'node:fs';
import { machineFacts } from './lib/machine.js';
import { fmt, mib, table, verdict, writeSection } from './lib/report.js';
import { startScenario, type DatabaseKind } from './lib/scenario.js';

const TARGET = 100_000;
/** Files the server needs besides device sockets: database, listeners, logs, slack. */
const SERVER_FILES = 1_000;
const PER_WORKER = 9_000;
const HOLD_MS = 15_000;

function openFileLimit(): { soft: number; hard: number } {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const [soft, hard] = (line ?? '')
    .split(/\s{2,}/)
    .slice(1, 3)
    .map(Number);
  return { soft, hard };
}

async function main(): Promise<void> {
  const limit = openFileLimit();
  const feasible = Math.min(TARGET, limit.soft - SERVER_FILES);
  const devices = Number(process.env.BENCH_DEVICES ?? feasible);
  const database = (process.env.BENCH_DATABASES ?? 'sqlite').split(',')[0] as DatabaseKind;
  const workers = Math.ceil(devices / PER_WORKER);
  // Each source address has its own ephemeral port range toward one server port.
  const localAddresses = Array.from(
    { length: Math.ceil(devices / 25_000) },
    (_, i) => `127.0.0.${i + 1}`,
  );
  console.log(
    `connections: ${fmt(devices)} devices in ${workers} processes (open-file limit ${limit.soft}/${limit.hard})`,
  );

  const scenario = await startScenario({
    database,
    devices,
    behaviour: 'count',
    workers,
    keepaliveSeconds: 120,
    localAddresses,
  });
  const { server, fleet } = scenario;
  try {
    const connectMs = fleet.connectMs;
    await new Promise((r) => setTimeout(r, HOLD_MS));
    const stats = await fleet.stats();
    const memory = server.memory();
    const perDevice = (memory.rss - scenario.idleRss) / Math.max(1, stats.connected);
    const atTarget = scenario.idleRss + perDevice * TARGET;
    const rows = [
      [
        fmt(devices),
        fmt(stats.connected),
        `${fmt(connectMs / 1000, 1)} s (${fmt((stats.connected * 1000) / connectMs)}/s)`,
        mib(memory.rss),
        mib(memory.peak),
        `${fmt(perDevice / 1024, 1)} KiB`,
        `~${mib(atTarget)}`,
        // The memory target is for 100,000 devices: judge the extrapolation, not this count.
        `${verdict(stats.connected, TARGET, '', false)}; RSS at 100,000 ${verdict(atTarget / 2 ** 20, 1536, ' MiB')}`,
      ],
    ];
    const out = [
      machineFacts(),
      '',
      `Devices connect (MQTT 3.1.1, clean session, last will, keep-alive 120 s with pings), ` +
        `subscribe to their command topic and say hello, spread over ${workers} client processes ` +
        `and ${localAddresses.length} source address(es), ${database}, embedded broker. Memory is ` +
        `read ${HOLD_MS / 1000} s after the last hello. This machine's open-file limit is ` +
        `${fmt(limit.soft)} (hard ${fmt(limit.hard)}) per process and cannot be raised here, so ` +
        'one server process cannot accept more sockets than that. "RSS per device" = (RSS − RSS ' +
        `of the idle server, ${mib(scenario.idleRss)}) / devices held; the 100,000 column ` +
        'extrapolates it linearly.',
      '',
      table(
        [
          'devices tried',
          'held',
          'connect time',
          'RSS',
          'peak RSS',
          'RSS per device',
          'RSS at 100,000',
          'target (100,000, < 1.5 GiB)',
        ],
        rows,
      ),
    ].join('\n');
    console.log(`\n${out}\n`);
    writeSection('Connections', 'connections', out);
  } finally {
    await scenario.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
