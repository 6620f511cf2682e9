import { realpathSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import pino from 'pino';
import {
  CONFIG_EXIT_CODE,
  CommandAppRunner,
  DeviceAgent,
  REBOOT_EXIT_CODE,
  readCredentials,
  superviseDevice,
} from '../../agent/index.js';
import { CliError } from '../api-client.js';

interface AgentCliOptions {
  credentials: string;
  dataDir: string;
  appName?: string;
  appVersion?: string;
  healthWindow: string;
  run?: string;
  healthCheck?: string;
  keepOldApp?: boolean;
  mqttUrl?: string;
  logLevel: string;
  supervisor: boolean;
  deviceProcess?: boolean;
}

/** Written by the device process so operators and tests can find it (and kill it). */
export const DEVICE_PID_FILE = 'device.pid';

const SELF = fileURLToPath(import.meta.url);

export function registerAgentCommand(program: Command): void {
  program
    .command('agent')
    .description('run this machine as a Tiota device (docs/agent.md)')
    .requiredOption('--credentials <file>', 'credentials JSON from `tiota device add ID --json`')
    .option('--data-dir <dir>', 'where the apps and the agent state live', './tiota-agent')
    .option('--app-name <name>', 'name of the app the device runs on its first start')
    .option('--app-version <version>', 'version of the app the device runs on its first start')
    .option('--health-window <seconds>', 'how long a new app must stay healthy', '30')
    .option('--run <command>', 'shell command that runs an app ({file} {version} {name} {id})')
    .option('--health-check <command>', 'shell command run at the end of the window; 0 = healthy')
    .option('--keep-old-app', 'pass -1 as oldAppId: keep the old app after an update')
    .option('--mqtt-url <url>', 'broker URL, overriding the one in the credentials')
    .option('--log-level <level>', 'pino log level', 'info')
    .option('--no-supervisor', 'run the device process alone (a restart exits with status 75)')
    .addOption(new Option('--device-process', 'internal: the supervised device process').hideHelp())
    .action(async (options: AgentCliOptions) => {
      const healthWindow = Number(options.healthWindow);
      if (!Number.isFinite(healthWindow) || healthWindow < 0) {
        throw new CliError('--health-window must be a number of seconds ≥ 0');
      }
      if ((options.appName === undefined) !== (options.appVersion === undefined)) {
        throw new CliError('give --app-name and --app-version together');
      }
      const log = pino({
        level: options.logLevel,
        redact: { paths: ['password', '*.password'], censor: '[redacted]' },
      });
      if (options.supervisor && !options.deviceProcess) {
        // The device process starts from this module alone: it need not load the whole CLI.
        // The first "agent" after the script is the subcommand (tiota has no global options).
        const cli = process.argv.slice(2);
        const args = cli.slice(cli.indexOf('agent') + 1);
        const code = await superviseDevice({
          command: process.execPath,
          args: [...process.execArgv, SELF, 'agent', ...args, '--device-process'],
          log: log.child({ role: 'supervisor' }),
        });
        process.exit(code);
      }
      await runDevice(options, healthWindow, log);
    });
}

async function runDevice(options: AgentCliOptions, healthWindow: number, log: pino.Logger) {
  const credentials = await readCredentials(options.credentials).catch((error: Error) => {
    // A configuration error: restarting would not help, so the supervisor stops.
    process.exitCode = CONFIG_EXIT_CODE;
    throw new CliError(error.message);
  });
  const dataDir = path.resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await writeFile(path.join(dataDir, DEVICE_PID_FILE), `${process.pid}\n`);

  const agent = new DeviceAgent({
    dataDir,
    credentials,
    logger: log,
    initialApp:
      options.appName && options.appVersion
        ? { name: options.appName, version: options.appVersion }
        : undefined,
    healthWindowMs: healthWindow * 1000,
    runner: new CommandAppRunner({ run: options.run, healthCheck: options.healthCheck, log }),
    keepOldApp: options.keepOldApp,
    mqtt: { url: options.mqttUrl },
    // The supervisor (or systemd, docs/agent.md) starts a fresh process: nothing of this one
    // survives but the data folder.
    restart: () => process.exit(REBOOT_EXIT_CODE),
  });
  try {
    await agent.start();
  } catch (error) {
    process.exitCode = CONFIG_EXIT_CODE;
    throw new CliError(`the agent could not start: ${(error as Error).message}`);
  }
  const stop = (): void => {
    void agent.stop().finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

// Started as a script (by the supervisor): run the device process. `tiota agent` itself
// goes through the CLI's main module and never takes this path.
if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(SELF)) {
  const program = new Command('tiota').exitOverride();
  registerAgentCommand(program);
  program.parseAsync(process.argv).catch((error: unknown) => {
    process.stderr.write(
      `tiota agent: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = process.exitCode || 1;
  });
}
