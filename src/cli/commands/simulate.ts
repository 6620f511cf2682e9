import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import pino from 'pino';
import {
  Fleet,
  NO_FAULTS,
  PROFILES,
  compareWithServer,
  fetchRollout,
  formatSummary,
  parseLinkSpeed,
  registerDevices,
  waitForRollout,
  type FaultSettings,
  type Profile,
  type RolloutCounts,
} from '../../simulator/index.js';
import { CliError, withApiOptions } from '../api-client.js';
import { commaList } from '../comma-list.js';

interface SimulateOptions {
  devices: string;
  profile: string;
  prefix?: string;
  tag?: string[];
  appName: string;
  appVersion: string;
  mqttUrl?: string;
  linkSpeed?: string;
  dropRate: string;
  offlineRate: string;
  offlineSeconds: string;
  offlineWithin: string;
  skewSeconds: string;
  crashRate: string;
  seed: string;
  startRate: string;
  rebootSeconds: string;
  healthWindow: string;
  rollout?: string;
  idle: string;
  timeout: string;
  simDir: string;
  logLevel: string;
  server?: string;
  token?: string;
  dataDir?: string;
  json?: boolean;
}

export function registerSimulateCommand(program: Command): void {
  withApiOptions(
    program
      .command('simulate')
      .description('rehearse a rollout on many simulated devices (docs/simulator.md)')
      .option('--devices <n>', 'how many devices', '100')
      .option('--profile <profile>', 'tijos (the reference OTA app) or agent', 'tijos')
      .option('--prefix <prefix>', 'device ids are <prefix>-<n> (default sim-<random>)')
      .option(
        '--tag <tags>',
        'tags for the devices, comma-separated or repeated (default simulator,<prefix>)',
        commaList,
      )
      .option('--app-name <name>', 'the app the devices run at the start', 'tijos-http-ota')
      .option('--app-version <version>', 'its version', '1.0.0')
      .option('--mqtt-url <url>', "broker URL for every device, instead of the server's")
      .option('--link-speed <bps>', 'link speed per device, bytes/s: N or MIN-MAX')
      .option('--drop-rate <p>', 'chance that a download response is cut (0-1)', '0')
      .option('--offline-rate <p>', 'share of devices that go offline once (0-1)', '0')
      .option('--offline-seconds <s>', 'length of an offline spell', '30')
      .option('--offline-within <s>', 'offline spells start within this many seconds', '60')
      .option('--skew-seconds <s>', 'device clocks are off by up to ± this many seconds', '0')
      .option('--crash-rate <p>', 'share of devices on which a new build crashes at start', '0')
      .option('--seed <n>', 'seed of the fault draws', '1')
      .option('--start-rate <n>', 'devices powered on per second', '500')
      .option('--reboot-seconds <s>', 'restart time: S or MIN-MAX', '1-3')
      .option('--health-window <s>', 'agent profile: health window', '2')
      .option('--rollout <id>', 'end when this rollout is completed or canceled; compare counts')
      .option('--idle <s>', 'end once every device is done and all was quiet this long', '10')
      .option('--timeout <s>', 'end after this long at most', '1800')
      .option('--sim-dir <dir>', 'simulator folder (kept credentials, agent data)', defaultSimDir())
      .option('--log-level <level>', 'device logs on stderr (pino level)', 'silent'),
  ).action(async (options: SimulateOptions) => simulate(options));
}

async function simulate(o: SimulateOptions): Promise<void> {
  const count = integer(o.devices, '--devices', 1, 100_000);
  if (!PROFILES.includes(o.profile as Profile)) {
    throw new CliError(`--profile must be one of ${PROFILES.join(', ')}`);
  }
  const profile = o.profile as Profile;
  const serverUrl = (o.server ?? process.env.TIOTA_SERVER ?? 'http://127.0.0.1:8080').replace(
    /\/+$/,
    '',
  );
  const token = o.token ?? process.env.TIOTA_TOKEN ?? readAdminToken(o.dataDir);
  if (!token) {
    throw new CliError('no API token: give --token, set TIOTA_TOKEN, or --data-dir of the server');
  }
  const prefix = o.prefix ?? `sim-${randomBytes(2).toString('hex')}`;
  const tags = o.tag ?? ['simulator', prefix];
  const faults = faultSettings(o);
  const rollout = o.rollout === undefined ? null : integer(o.rollout, '--rollout', 1, 2 ** 31);
  const say = (line: string): void => void process.stderr.write(`simulate: ${line}\n`);

  const credentials = await registerDevices({
    serverUrl,
    token,
    count,
    prefix,
    tags,
    profile,
    cacheFile: path.join(o.simDir, `credentials-${prefix}.json`),
  }).catch((error: Error) => {
    throw new CliError(error.message);
  });
  say(`${count} devices registered as ${prefix}-… with tags ${tags.join(',')}`);

  const agentDir = path.join(o.simDir, `agents-${prefix}-${process.pid}`);
  const fleet = new Fleet({
    credentials,
    profile,
    app: { name: o.appName, version: o.appVersion },
    faults,
    seed: integer(o.seed, '--seed', 0, 2 ** 31),
    startPerSecond: integer(o.startRate, '--start-rate', 1, 100_000),
    rebootSeconds: range(o.rebootSeconds, '--reboot-seconds'),
    healthWindowMs: fraction(o.healthWindow, '--health-window', 0, 86_400) * 1000,
    dataDir: agentDir,
    mqttUrl: o.mqttUrl,
    logger: pino({ level: o.logLevel }, pino.destination(2)),
  });
  let interrupted = false;
  const stop = new Promise<void>((resolve) => {
    process.once('SIGINT', () => {
      interrupted = true;
      resolve();
    });
  });
  await fleet.start();
  say(`${count} ${profile} devices started; waiting for commands`);
  const ticker = setInterval(() => {
    const { states, online } = fleet.summary();
    const line = Object.entries({ online, ...states })
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k}=${n}`)
      .join(' ');
    say(line);
  }, 5000);

  const timeoutMs = fraction(o.timeout, '--timeout', 1, 7 * 86_400) * 1000;
  const idleMs = fraction(o.idle, '--idle', 0, 86_400) * 1000;
  let server: RolloutCounts | null = null;
  let ended: string;
  if (rollout !== null) {
    server = await waitForRollout(serverUrl, token, rollout, {
      timeoutMs,
      stopped: () => interrupted,
    });
    // Reports trail the server's last count a little: let the devices finish, then recount.
    ended = await fleet.waitSettled(Math.min(idleMs, 2000), 30_000, stop, false);
    server = (await fetchRollout(serverUrl, token, rollout).catch(() => null)) ?? server;
    if (!server || !['completed', 'canceled'].includes(server.status)) {
      ended = interrupted ? 'stopped' : 'timeout';
    }
  } else {
    ended = await fleet.waitSettled(idleMs, timeoutMs, stop);
  }
  clearInterval(ticker);

  const summary = fleet.summary();
  const comparison = server ? compareWithServer(summary, server.counts, server.status) : null;
  await fleet.stop();
  await rm(agentDir, { recursive: true, force: true });

  if (o.json) {
    const out = { ...summary, ended, ...(server && { rollout: { ...server, comparison } }) };
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  } else {
    process.stdout.write(formatSummary(summary) + '\n');
    if (server && comparison) {
      process.stdout.write(
        `  rollout ${server.id} is ${server.status}; outcome   simulator  server\n`,
      );
      for (const r of comparison.rows) {
        process.stdout.write(
          `    ${r.state.padEnd(26)} ${String(r.simulator).padStart(9)}  ${r.server}\n`,
        );
      }
      const verdict = comparison.exact
        ? 'the counts match'
        : comparison.matches
          ? 'the outcomes match; the failed/rolled_back split differs (the server counts a ' +
            'download complete once it sent the last byte)'
          : 'the counts DO NOT match';
      process.stdout.write(`  ${verdict}\n`);
    }
  }
  if (ended === 'timeout') process.exitCode = 2;
  // Device sockets and timers are gone; leave no straggler keeping the process alive.
  process.exit();
}

function faultSettings(o: SimulateOptions): FaultSettings {
  let linkSpeed: FaultSettings['linkSpeed'] = null;
  if (o.linkSpeed) {
    try {
      linkSpeed = parseLinkSpeed(o.linkSpeed);
    } catch (error) {
      throw new CliError(`--link-speed: ${(error as Error).message}`);
    }
  }
  const within = fraction(o.offlineWithin, '--offline-within', 0, 86_400);
  return {
    ...NO_FAULTS,
    linkSpeed,
    dropRate: fraction(o.dropRate, '--drop-rate', 0, 1),
    offlineRate: fraction(o.offlineRate, '--offline-rate', 0, 1),
    offlineSeconds: fraction(o.offlineSeconds, '--offline-seconds', 0, 86_400),
    offlineFromSeconds: 0,
    offlineWithinSeconds: within,
    clockSkewSeconds: fraction(o.skewSeconds, '--skew-seconds', 0, 10 * 365 * 86_400),
    crashRate: fraction(o.crashRate, '--crash-rate', 0, 1),
  };
}

function integer(text: string, flag: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new CliError(`${flag} must be a whole number from ${min} to ${max}, got "${text}"`);
  }
  return n;
}

function fraction(text: string, flag: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new CliError(`${flag} must be a number from ${min} to ${max}, got "${text}"`);
  }
  return n;
}

function range(text: string, flag: string): { min: number; max: number } {
  const [a, b = a] = text.split('-');
  const min = fraction(a, flag, 0, 3600);
  const max = fraction(b, flag, min, 3600);
  return { min, max };
}

function readAdminToken(dataDir?: string): string {
  const file = path.join(dataDir ?? process.env.TIOTA_DATA_DIR ?? './tiota-data', 'admin-token');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}

function defaultSimDir(): string {
  return path.join(os.tmpdir(), 'tiota-sim');
}
