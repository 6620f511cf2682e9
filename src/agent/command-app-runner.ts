import { spawn, type ChildProcess } from 'node:child_process';
import type { AgentLogger } from './agent-logger.js';
import type { AppRecord } from './app-model.js';
import type { AppExit, AppRunner, RunningApp } from './app-runner.js';

export interface CommandRunnerOptions {
  /**
   * Shell command that runs an app and keeps running while the app does. `{file}`, `{version}`,
   * `{name}` and `{id}` are replaced by the app's values, shell-quoted; the same values are in
   * TIOTA_APP_FILE, TIOTA_APP_VERSION, TIOTA_APP_NAME and TIOTA_APP_ID.
   */
  readonly run?: string;
  /** Shell command run at the end of the health window; exit status 0 means healthy. */
  readonly healthCheck?: string;
  /** Longest a health check may take, milliseconds (default 30000). */
  readonly healthCheckTimeoutMs?: number;
  readonly log: AgentLogger;
}

/**
 * Runs apps as shell commands. An app that exits inside the health window has crashed, so a
 * build that crashes at start is any run command that exits, e.g.
 * `sh -c 'test "$TIOTA_APP_VERSION" != 2.0.0 && exec sleep infinity'`.
 */
export class CommandAppRunner implements AppRunner {
  constructor(private readonly options: CommandRunnerOptions) {}

  async start(app: AppRecord, file: string | null): Promise<RunningApp> {
    const command = this.options.run;
    if (!command) return { exited: new Promise(() => undefined), stop: async () => undefined };
    const child = spawn(fill(command, app, file), {
      shell: true,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, ...appEnv(app, file) },
    });
    const exited = new Promise<AppExit>((resolve) => {
      child.on('exit', (code, signal) => resolve({ code, signal }));
      child.on('error', () => resolve({ code: null, signal: null }));
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    this.options.log.info({ appId: app.id, version: app.version, pid: child.pid }, 'app started');
    return { exited, stop: () => stopChild(child, exited) };
  }

  async check(app: AppRecord, file: string | null): Promise<boolean> {
    const command = this.options.healthCheck;
    if (!command) return true;
    const child = spawn(fill(command, app, file), {
      shell: true,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, ...appEnv(app, file) },
    });
    const timer = setTimeout(
      () => child.kill('SIGKILL'),
      this.options.healthCheckTimeoutMs ?? 30_000,
    );
    const code = await new Promise<number | null>((resolve) => {
      child.on('exit', (c) => resolve(c));
      child.on('error', () => resolve(null));
    });
    clearTimeout(timer);
    this.options.log.info({ appId: app.id, code }, 'health check finished');
    return code === 0;
  }
}

function appEnv(app: AppRecord, file: string | null): Record<string, string> {
  return {
    TIOTA_APP_FILE: file ?? '',
    TIOTA_APP_VERSION: app.version,
    TIOTA_APP_NAME: app.name,
    TIOTA_APP_ID: String(app.id),
  };
}

function fill(command: string, app: AppRecord, file: string | null): string {
  const values: Record<string, string> = {
    file: file ?? '',
    version: app.version,
    name: app.name,
    id: String(app.id),
  };
  return command.replace(/\{(file|version|name|id)\}/g, (_, key: string) =>
    shellQuote(values[key]),
  );
}

/** POSIX single quoting: the value cannot end the quote or expand. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

async function stopChild(child: ChildProcess, exited: Promise<AppExit>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
