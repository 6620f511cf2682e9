/**
 * Fleet safety: 10,000 simulated TiJOS devices, a build that crashes at start (each device
 * downloads it, restarts, and comes back on the old app), a rollout with the DEFAULT
 * settings. How many devices received the package before the rollout stopped itself, and
 * how many of those came back on the old version and are counted rolled back. Writes
 * "Fleet safety".
 *
 *   npm run bench:safety      BENCH_DEVICES=10000 BENCH_DATABASES=sqlite
 */
import { machineFacts } from './lib/machine.js';
import { fmt, table, writeSection } from './lib/report.js';
import { startScenario, type DatabaseKind } from './lib/scenario.js';
import { BENCH_TAG } from './lib/seed.js';
import { uploadFixture, watchRollout, type RolloutCounts } from './lib/tiota-api.js';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 10_000);
const DATABASE = (process.env.BENCH_DATABASES ?? 'sqlite').split(',')[0] as DatabaseKind;
/** How long the rollout may run before we call it "did not stop itself". */
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_S ?? 180) * 1000;
const STARTED = ['downloading', 'downloaded', 'installing', 'restarting'];

async function main(): Promise<void> {
  console.log(`fleet safety: ${DEVICES} devices, crashing build, default settings (${DATABASE})`);
  const scenario = await startScenario({
    database: DATABASE,
    devices: DEVICES,
    behaviour: 'crash',
    workers: 2,
    env: { TIOTA_MAX_DOWNLOADS: String(DEVICES), TIOTA_MAX_DOWNLOADS_PER_PACKAGE: String(DEVICES) },
  });
  const { server, fleet } = scenario;
  try {
    const pkg = await uploadFixture(server, '2.0.0');
    const t0 = Date.now();
    // No settings: whatever a hurried operator gets.
    const rollout = await server.api<{ id: number; settings: unknown }>('POST', '/rollouts', {
      packageId: pkg.id,
      target: { tags: [BENCH_TAG] },
    });
    const stopped = (v: RolloutCounts) => v.status !== 'running';
    const settled = (v: RolloutCounts) => STARTED.every((s) => (v.counts[s] ?? 0) === 0);
    const first = await watchRollout(
      server,
      rollout.id,
      (v) => stopped(v) && settled(v),
      TIMEOUT_MS,
      500,
    );
    const seconds = (Date.now() - t0) / 1000;
    // Devices still rebooting when the rollout stopped: give their hellos a moment.
    await new Promise((r) => setTimeout(r, 3000));
    const { view } = await watchRollout(server, rollout.id, () => true, 0);
    const stats = await fleet.stats();

    const got = stats.downloadsOk;
    const back = stats.restarted - stats.restartedOnNew;
    const rolledBack = view.counts.rolled_back ?? 0;
    const share = (100 * got) / DEVICES;
    const ok = share <= 1.5 && back === got && rolledBack >= got;
    const rows = [
      [
        `${fmt(DEVICES)}`,
        first.timedOut
          ? `no (still ${view.status} after ${TIMEOUT_MS / 1000} s)`
          : `${view.status} after ${seconds.toFixed(1)} s${view.pauseReason ? ` (${view.pauseReason})` : ''}`,
        `${fmt(stats.received)}`,
        `${fmt(got)} (${share.toFixed(2)} %)`,
        `${fmt(back)} / ${fmt(got)}`,
        `${fmt(rolledBack)}`,
        ok
          ? 'met (≤ 1.5 %, 100 % back and reported)'
          : `**missed** (≤ 1.5 %: ${share.toFixed(2)} %; back ${back}/${got}; reported ${rolledBack}/${got})`,
      ],
    ];
    const counts = Object.entries(view.counts)
      .filter(([, n]) => n > 0)
      .map(([state, n]) => `${state} ${fmt(n)}`)
      .join(', ');
    const out = [
      machineFacts(),
      '',
      `${fmt(DEVICES)} simulated TiJOS devices (${DATABASE}); the package's new app crashes at ` +
        'start, so every device that installs it restarts and comes back on the old app (hello ' +
        'with the old version). Rollout created with no settings (the defaults: ' +
        `\`${JSON.stringify(rollout.settings)}\`). "Received" = downloaded the whole package; ` +
        '"back" = reconnected on the old version; "reported" = the server counts the action ' +
        '`rolled_back`.',
      '',
      table(
        [
          'devices',
          'rollout stopped itself',
          'commands received',
          'received the package',
          'back on old version',
          'reported rolled back',
          'target',
        ],
        rows,
      ),
      '',
      `Final counts: ${counts}.`,
    ].join('\n');
    console.log(`\n${out}\n`);
    writeSection('Fleet safety', 'safety', out);
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
