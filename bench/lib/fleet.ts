/**
 * The simulated fleet: device ids split over worker processes (fleet-worker.ts), each device a
 * real MQTT connection. Collects what the devices saw, summed over workers.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { bundle } from './bundle.js';
import type { FromWorker, ToWorker, WorkerStats } from './fleet-messages.js';
import type { DeviceSetup } from './sim-device.js';

export interface FleetOptions {
  readonly ids: readonly string[];
  readonly setup: Omit<DeviceSetup, 'localAddress'>;
  readonly workers: number;
  /**
   * Source addresses to spread connections over (default 16: 127.0.0.16 to 127.0.0.31).
   * A real fleet connects from as many addresses as it has devices. From one address, the
   * kernel must find each new connection (every download, every reconnect) a free ephemeral
   * port among the previous ones still in TIME_WAIT toward the same server port: with ten
   * thousand of them, connect() alone costs the simulator about a millisecond.
   */
  readonly localAddresses?: readonly string[];
  /** Connects in flight per worker (default 100). */
  readonly concurrency?: number;
}

const DEFAULT_SOURCE_ADDRESSES = Array.from({ length: 16 }, (_, i) => `127.0.0.${16 + i}`);

export class Fleet {
  private constructor(
    private readonly workers: readonly ChildProcess[],
    readonly connected: number,
    readonly failed: number,
    readonly connectMs: number,
  ) {}

  static async start(options: FleetOptions): Promise<Fleet> {
    const file = await bundle('bench/lib/fleet-worker.ts');
    const n = Math.min(options.workers, options.ids.length);
    const workers = Array.from({ length: n }, () =>
      fork(file, [], { execArgv: [], stdio: 'inherit' }),
    );
    const per = Math.ceil(options.ids.length / n);
    const started = Date.now();
    const replies = await Promise.all(
      workers.map((worker, i) => {
        const reply = nextMessage(worker, 'connected');
        send(worker, {
          type: 'start',
          setup: options.setup,
          ids: options.ids.slice(i * per, (i + 1) * per),
          localAddresses: [...(options.localAddresses ?? DEFAULT_SOURCE_ADDRESSES)],
          concurrency: options.concurrency ?? 100,
        });
        return reply;
      }),
    );
    const ok = replies.reduce((a, r) => a + r.ok, 0);
    const failed = replies.reduce((a, r) => a + r.failed, 0);
    const error = replies.find((r) => r.firstError)?.firstError;
    if (failed > 0) console.warn(`  ${failed} devices failed to connect (first: ${error})`);
    return new Fleet(workers, ok, failed, Date.now() - started);
  }

  /**
   * Resolves with the time (ms since epoch) the last device got its first command; must be
   * called before the commands go out.
   */
  allReceived(timeoutMs: number): Promise<number> {
    const all = Promise.all(this.workers.map((w) => nextMessage(w, 'allReceived'))).then((r) =>
      Math.max(...r.map((m) => m.at)),
    );
    return withTimeout(all, timeoutMs, 'not every device received its command');
  }

  /** Forgets received commands; resolves once every worker has (IPC keeps order). */
  async reset(): Promise<void> {
    for (const worker of this.workers) send(worker, { type: 'reset' });
    await this.stats();
  }

  async stats(): Promise<WorkerStats> {
    const all = await Promise.all(
      this.workers.map((w) => {
        const reply = nextMessage(w, 'stats');
        send(w, { type: 'stats' });
        return reply.then((m) => m.stats);
      }),
    );
    const sum = (key: keyof WorkerStats) => all.reduce((a, s) => a + s[key], 0);
    return {
      connected: sum('connected'),
      received: sum('received'),
      firstReceivedAt: Math.min(...all.map((s) => s.firstReceivedAt || Infinity)),
      lastReceivedAt: Math.max(...all.map((s) => s.lastReceivedAt)),
      downloadsOk: sum('downloadsOk'),
      downloadsFailed: sum('downloadsFailed'),
      downloadMsTotal: sum('downloadMsTotal'),
      restarted: sum('restarted'),
      restartedOnNew: sum('restartedOnNew'),
      rssBytes: sum('rssBytes'),
    };
  }

  /** Every device sends `reports` status reports; resolves when the broker acknowledged all. */
  async ingest(reports: number, timeoutMs: number) {
    const replies = await withTimeout(
      Promise.all(
        this.workers.map((w) => {
          const reply = nextMessage(w, 'ingested');
          send(w, { type: 'ingest', reports });
          return reply;
        }),
      ),
      timeoutMs,
      'reports were not acknowledged in time',
    );
    return {
      acked: replies.reduce((a, r) => a + r.acked, 0),
      failed: replies.reduce((a, r) => a + r.failed, 0),
      startAt: Math.min(...replies.map((r) => r.startAt)),
      endAt: Math.max(...replies.map((r) => r.endAt)),
    };
  }

  /** Disconnects every device cleanly (no last wills) and ends the workers. */
  async stop(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.exitCode !== null) return resolve();
            const kill = setTimeout(() => w.kill('SIGKILL'), 5000);
            w.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            send(w, { type: 'stop' });
          }),
      ),
    );
  }
}

function send(worker: ChildProcess, message: ToWorker): void {
  worker.send(message);
}

function nextMessage<T extends FromWorker['type']>(
  worker: ChildProcess,
  type: T,
): Promise<Extract<FromWorker, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: FromWorker) => {
      if (message.type !== type) return;
      cleanup();
      resolve(message as Extract<FromWorker, { type: T }>);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`fleet worker exited (${code}) while waiting for "${type}"`));
    };
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('exit', onExit);
  });
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
