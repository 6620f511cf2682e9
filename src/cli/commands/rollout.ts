import type { Command } from 'commander';
import type { RolloutView } from '../../server/domain/rollout-service.js';
import { CliError, clientFor, withApiOptions } from '../api-client.js';
import { printFields, printResult } from '../output.js';

export function registerRolloutCommands(program: Command): void {
  const rollout = program.command('rollout').description('deploy a package to devices and steer the rollout');

  withApiOptions(
    rollout
      .command('create')
      .description('start a rollout (or print its plan with --dry-run)')
      .requiredOption('--package <id>', 'package id (see tiota package list)')
      .option('--devices <ids>', 'comma-separated device ids')
      .option('--tag <tags>', 'comma-separated tags: devices carrying any of them')
      .option('--app <name>', 'devices running this app')
      .option('--version-below <version>', 'with --app: only devices below this version')
      .option('--name <name>', 'a name for the rollout')
      .option('--settings <json>', 'rollout settings as JSON (docs/rollouts.md)')
      .option('--dry-run', 'print the plan without starting'),
  ).action(async (options) => {
    const list = (s?: string) => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : undefined);
    let settings: unknown;
    try {
      settings = options.settings ? JSON.parse(options.settings) : undefined;
    } catch {
      throw new CliError('--settings must be JSON, e.g. \'{"batchSize":10}\'');
    }
    const body = {
      name: options.name,
      packageId: Number(options.package),
      target: { devices: list(options.devices), tags: list(options.tag), app: options.app, versionBelow: options.versionBelow },
      settings,
      dryRun: options.dryRun,
    };
    const result = await clientFor(options).request<any>('POST', '/rollouts', body);
    if (options.dryRun && !options.json) {
      process.stdout.write(`plan: ${result.devices} devices of ${result.package.app} → ${result.package.version} in ${result.batches.length} batches\n`);
      for (const b of result.batches) process.stdout.write(`  batch ${b.batch}: ${b.size} devices\n`);
      return;
    }
    printRollout(options.json, result);
  });

  withApiOptions(rollout.command('list').description('list rollouts').option('--status <status>', 'running, paused, completed or canceled')).action(
    async (options) => {
      const query = options.status ? `?status=${options.status}` : '';
      const result = await clientFor(options).request<{ rollouts: RolloutView[] }>('GET', `/rollouts${query}`);
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
    },
  );

  withApiOptions(rollout.command('show <id>').description('show a rollout with counts per state and per batch')).action(
    async (id: string, options) => {
      printRollout(options.json, await clientFor(options).request<RolloutView>('GET', `/rollouts/${id}`));
    },
  );

  for (const verb of ['pause', 'resume', 'cancel'] as const) {
    withApiOptions(rollout.command(`${verb} <id>`).description(`${verb} a rollout`)).action(async (id: string, options) => {
      printRollout(options.json, await clientFor(options).request<RolloutView>('POST', `/rollouts/${id}/${verb}`));
    });
  }
}

export function printRollout(json: boolean | undefined, r: RolloutView): void {
  if (json) return printFields(true, r as unknown as Record<string, unknown>);
  const counts = Object.entries(r.counts).filter(([, n]) => n > 0).map(([s, n]) => `${s}=${n}`).join(' ');
  printFields(false, {
    id: r.id,
    name: r.name,
    status: r.status + (r.pauseReason ? ` (${r.pauseReason})` : ''),
    package: `${r.package.app} ${r.package.version} (#${r.package.id})`,
    batch: `${r.currentBatch + 1} of ${r.batchCount}`,
    counts: counts || '-',
  });
}
