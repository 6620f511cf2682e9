/**
 * Starts the Tiota server as a child process on free loopback ports with a fresh data folder,
 * and reads its CPU time and memory from /proc (what an operator's `top` would show).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { bundle } from './bundle.js';

export interface ServerProcess {
  readonly pid: number;
  readonly httpUrl: string;
  /** Where devices connect: the embedded broker, or the external one. */
  readonly mqttUrl: string;
  readonly token: string;
  readonly dataDir: string;
  api<T = any>(method: string, route: string, body?: unknown): Promise<T>;
  /** null while it runs. */
  exitCode(): number | null;
  /** The end of the server's log, for when something went wrong. */
  logTail(): string;
  /** User + system CPU seconds since the process started. */
  cpuSeconds(): number;
  /** Current and peak resident set size, bytes. */
  memory(): { rss: number; peak: number };
  stop(): Promise<void>;
}

export interface ServerOptions {
  /** `sqlite:` (default: a file in the data folder) or `postgres://…`. */
  readonly databaseUrl?: string;
  /** An external broker; omitted, the embedded broker runs. */
  readonly mqttUrl?: string;
  readonly dataDir?: string;
  /** More TIOTA_* settings. */
  readonly env?: Record<string, string>;
  /** Writes a V8 CPU profile of the server into this folder when it stops. */
  readonly cpuProfileDir?: string;
}

const TICKS_PER_SECOND = 100; // Linux USER_HZ (getconf CLK_TCK)

export async function startServerProcess(options: ServerOptions = {}): Promise<ServerProcess> {
  const file = await bundle('bench/lib/server-main.ts');
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'tiota-bench-')));
  const log = openSync(path.join(dataDir, 'server.log'), 'a');
  const child = fork(file, [], {
    execArgv: options.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir] : [],
    stdio: ['ignore', log, log, 'ipc'],
    env: {
      ...process.env,
      TIOTA_DATA_DIR: dataDir,
      TIOTA_HTTP_HOST: '127.0.0.1',
      TIOTA_HTTP_PORT: '0',
      TIOTA_MQTT_HOST: '127.0.0.1',
      TIOTA_MQTT_PORT: '0',
      TIOTA_LOG_LEVEL: 'info',
      ...(options.databaseUrl && { TIOTA_DATABASE_URL: options.databaseUrl }),
      ...(options.mqttUrl && { TIOTA_MQTT_URL: options.mqttUrl }),
      ...options.env,
    },
  });
  const ready = await new Promise<{ httpUrl: string; mqttUrl: string; token: string }>(
    (resolve, reject) => {
      child.once('message', (m) =>
        resolve(m as { httpUrl: string; mqttUrl: string; token: string }),
      );
      child.once('exit', (code) =>
        reject(new Error(`server exited (${code}) before it was ready; see ${dataDir}/server.log`)),
      );
    },
  );
  const pid = child.pid!;

  return {
    pid,
    httpUrl: ready.httpUrl,
    mqttUrl: ready.mqttUrl,
    token: ready.token,
    dataDir,
    api: (method, route, body) => callApi(ready.httpUrl, ready.token, method, route, body),
    exitCode: () => child.exitCode ?? (child.signalCode ? -1 : null),
    logTail: () => {
      try {
        return readFileSync(path.join(dataDir, 'server.log'), 'utf8').slice(-3000);
      } catch {
        return '(no log)';
      }
    },
    cpuSeconds: () => {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    },
    memory: () => {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kib = (key: string) =>
        Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) * 1024;
      return { rss: kib('VmRSS'), peak: kib('VmHWM') };
    },
    stop: async () => {
      await stopChild(child);
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function callApi<T = any>(
  baseUrl: string,
  token: string,
  method: string,
  route: string,
  body?: unknown,
): Promise<T> {
  const isBytes = body instanceof Uint8Array;
  const response = await fetch(`${baseUrl}/api/v1${route}`, {
    method,
    // A request lost under load must not hold the benchmark for undici's 300 s default.
    signal: AbortSignal.timeout(15_000),
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined && {
        'content-type': isBytes ? 'application/octet-stream' : 'application/json',
      }),
    },
    body:
      body === undefined ? undefined : isBytes ? (body as unknown as Blob) : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}
