import type { Command } from 'commander';
import { CliError } from '../api-client.js';

/** One CLI flag per rollout setting (docs/rollouts.md lists them with their defaults). */
const FLAGS: readonly {
  flag: string;
  key: string;
  kind: 'number' | 'quantity' | 'text';
  help: string;
}[] = [
  {
    flag: '--canary <n|p%>',
    key: 'canary',
    kind: 'quantity',
    help: 'first batch alone: devices or percent (default 5; 0 = none)',
  },
  {
    flag: '--strategy <name>',
    key: 'batchStrategy',
    kind: 'text',
    help: 'fixed, percentage or exponential (default exponential)',
  },
  {
    flag: '--batch-size <n>',
    key: 'batchSize',
    kind: 'number',
    help: 'devices per batch, or first batch after the canary (default 50; 0 = all)',
  },
  {
    flag: '--batch-percent <p>',
    key: 'batchPercent',
    kind: 'number',
    help: 'percentage strategy: percent of devices per batch (default 10)',
  },
  {
    flag: '--growth <factor>',
    key: 'growthFactor',
    kind: 'number',
    help: 'exponential strategy: growth per batch (default 2)',
  },
  {
    flag: '--max-batch-size <n>',
    key: 'maxBatchSize',
    kind: 'number',
    help: 'largest batch (default 0 = no limit)',
  },
  {
    flag: '--soak <seconds>',
    key: 'soakSeconds',
    kind: 'number',
    help: 'wait after a batch reached its success threshold (default 60)',
  },
  {
    flag: '--max-concurrent <n>',
    key: 'maxConcurrentDownloads',
    kind: 'number',
    help: 'devices downloading at once (default 0 = as pacing allows)',
  },
  {
    flag: '--jitter <seconds>',
    key: 'jitterSeconds',
    kind: 'number',
    help: 'random delay before each command (default 0)',
  },
  {
    flag: '--ack-timeout <seconds>',
    key: 'ackTimeoutSeconds',
    kind: 'number',
    help: 'deadline to start on a command (default 300)',
  },
  {
    flag: '--download-timeout <seconds>',
    key: 'downloadTimeoutSeconds',
    kind: 'number',
    help: 'deadline for the download (default 600)',
  },
  {
    flag: '--confirm-timeout <seconds>',
    key: 'confirmTimeoutSeconds',
    kind: 'number',
    help: 'deadline for the post-restart report (default 600)',
  },
  {
    flag: '--retries <n>',
    key: 'maxRetries',
    kind: 'number',
    help: 'further attempts after a failure or timeout (default 2)',
  },
  {
    flag: '--retry-backoff <seconds>',
    key: 'retryBackoffSeconds',
    kind: 'number',
    help: 'wait before the first retry, doubling (default 60)',
  },
  {
    flag: '--error-threshold <n|p%|off>',
    key: 'errorThreshold',
    kind: 'quantity',
    help: 'pause at this many errors in a batch (default 10%)',
  },
  {
    flag: '--error-min-finished <n>',
    key: 'errorMinFinished',
    kind: 'number',
    help: 'finished devices before the error threshold applies (default 5)',
  },
  {
    flag: '--success-threshold <p>',
    key: 'successThreshold',
    kind: 'number',
    help: 'percent of a batch that must succeed (default 95)',
  },
];

/** Adds the settings flags, and --pause-after-batch, to `tiota rollout create`. */
export function withSettingsFlags(command: Command): Command {
  for (const f of FLAGS) command.option(f.flag, f.help);
  return command.option(
    '--pause-after-batch',
    'pause for approval after every batch that succeeded',
  );
}

/**
 * Settings from --settings JSON with the flags on top. Only what was given is sent: the
 * server fills in its defaults.
 */
export function settingsFromFlags(
  options: Record<string, unknown>,
): Record<string, unknown> | undefined {
  let settings: Record<string, unknown> = {};
  if (typeof options.settings === 'string') {
    try {
      settings = JSON.parse(options.settings) as Record<string, unknown>;
    } catch {
      throw new CliError('--settings must be JSON, e.g. \'{"batchSize":10}\'');
    }
  }
  for (const f of FLAGS) {
    const name = f.flag
      .replace(/^--/, '')
      .split(' ')[0]
      .replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
    const value = options[name];
    if (typeof value !== 'string') continue;
    settings[f.key] = parseValue(f.flag, f.kind, value);
  }
  if (options.pauseAfterBatch) settings.afterBatch = 'pause';
  return Object.keys(settings).length ? settings : undefined;
}

function parseValue(flag: string, kind: 'number' | 'quantity' | 'text', value: string): unknown {
  if (kind === 'text') return value;
  if (kind === 'quantity' && value === 'off') return null;
  if (kind === 'quantity' && value.endsWith('%')) return value;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) {
    throw new CliError(
      `${flag.split(' ')[0]} must be a number${kind === 'quantity' ? ' or a percent' : ''}, got "${value}"`,
    );
  }
  return n;
}
