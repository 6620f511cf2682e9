import type { Command } from 'commander';
import type { RolloutView } from '../../server/domain/rollout-service.js';
import { CliError, clientFor, withApiOptions } from '../api-client.js';
import { commaList } from '../comma-list.js';
import { printResult } from '../output.js';
import { formatPlan, printRollout, type DryRunPlan } from './rollout-print.js';
import { settingsFromFlags, withSettingsFlags } from './rollout-settings-flags.js';
import { watchRollout } from './rollout-watch.js';

export function registerRolloutCommands(program: Command): void {
  const rollout = program
    .command('rollout')
    .description('deploy a package to devices and steer the rollout');

  withApiOptions(
    withSettingsFlags(
      rollout
        .command('create')
        .description(
          'start a rollout (or print its plan with --dry-run); settings: docs/rollouts.md',
        )
        .requiredOption('--package <id>', 'package id (see tiota package list)')
        .option('--devices <ids>', 'device ids, comma-separated or repeated', commaList)
        .option(
          '--tag <tags>',
          'tags, comma-separated or repeated: devices carrying any',
          commaList,
        )
        .option('--app <name>', 'devices running this app')
        .option('--version-below <version>', 'with --app: only devices below this version')
        .option('--name <name>', 'a name for the rollout')
        .option('--settings <json>', 'rollout settings as JSON; the flags below win over it'),
    ).option('--dry-run', 'print the plan (batches, pacing, expected duration) without starting'),
  ).action(async (options) => {
    const body = {
      name: options.name,
      packageId: Number(options.package),
      target: {
        devices: options.devices as string[] | undefined,
        tags: options.tag as string[] | undefined,
        app: options.app,
        versionBelow: options.versionBelow,
      },
      settings: settingsFromFlags(options),
      dryRun: options.dryRun,
    };
    const result = await clientFor(options).request<any>('POST', '/rollouts', body);
    if (options.dryRun && !options.json) {
      process.stdout.write(formatPlan(result as DryRunPlan));
      return;
    }
    printRollout(options.json, result);
  });

  withApiOptions(
    rollout
      .command('list')
      .description('list rollouts')
      .option('--status <status>', 'running, paused, completed or canceled'),
  ).action(async (options) => {
    const query = options.status ? `?status=${encodeURIComponent(options.status)}` : '';
    const result = await clientFor(options).request<{ rollouts: RolloutView[] }>(
      'GET',
      `/rollouts${query}`,
    );
    printResult(
      options.json,
      result,
      result.rollouts.map((r) => ({
        id: r.id,
        name: r.name,
        status: r.status,
        package: `${r.package.app} ${r.package.version}`,
        batch: `${r.currentBatch + 1}/${r.batchCount}`,
        succeeded: r.counts.succeeded,
        failed: r.counts.failed + r.counts.rolled_back + r.counts.timed_out,
        total: Object.values(r.counts).reduce((a, b) => a + b, 0),
      })),
    );
  });

  withApiOptions(
    rollout
      .command('show <id>')
      .description('show a rollout with counts per state and per batch')
      .option('--devices', 'also list its devices with their states'),
  ).action(async (id: string, options) => {
    const client = clientFor(options);
    const view = await client.request<RolloutView>('GET', `/rollouts/${id}`);
    if (!options.devices) return printRollout(options.json, view);
    const { devices } = await client.request<{ devices: Record<string, unknown>[] }>(
      'GET',
      `/rollouts/${id}/devices`,
    );
    if (options.json) return printResult(true, { ...view, devices });
    printRollout(false, view);
    process.stdout.write('\n');
    printResult(
      false,
      devices,
      devices.map((d) => ({
        device: d.deviceId,
        batch: Number(d.batch) + 1,
        state: d.state,
        attempt: d.attempt,
        error: d.errorCode,
      })),
    );
  });

  withApiOptions(
    rollout
      .command('watch <id>')
      .description(
        'follow a rollout with progress bars per batch; exits 0 completed, 2 paused, 3 canceled',
      )
      .option('--interval <ms>', 'how often to refresh', '1000'),
  ).action(async (id: string, options) => {
    const interval = Number(options.interval);
    if (!Number.isFinite(interval) || interval < 100)
      throw new CliError('--interval must be at least 100 ms');
    process.exitCode = await watchRollout(clientFor(options), Number(id), interval);
  });

  for (const verb of ['pause', 'resume', 'cancel'] as const) {
    withApiOptions(rollout.command(`${verb} <id>`).description(`${verb} a rollout`)).action(
      async (id: string, options) => {
        printRollout(
          options.json,
          await clientFor(options).request<RolloutView>('POST', `/rollouts/${id}/${verb}`),
        );
      },
    );
  }
}
