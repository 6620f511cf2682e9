import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { CLI } from '../../support/fixture.js';

/** A free port on 127.0.0.1 now, for a server that must keep it across restarts. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * `tiota server` as its own process (the compiled CLI, as users run it), so that a test can
 * kill it with SIGKILL and start it again on the same ports and data.
 */
export class ServerProcess {
  #child: ChildProcess | null = null;
  #output = '';

  constructor(
    readonly dataDir: string,
    readonly httpPort: number,
    readonly mqttPort: number,
    private readonly extra: string[] = [],
  ) {}

  get httpUrl(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  async start(): Promise<void> {
    const args = [
      CLI,
      'server',
      '--data-dir',
      this.dataDir,
      '--http-host',
      '127.0.0.1',
      '--http-port',
      String(this.httpPort),
      '--mqtt-host',
      '127.0.0.1',
      '--mqtt-port',
      String(this.mqttPort),
      '--public-url',
      this.httpUrl,
      '--log-level',
      'warn',
      ...this.extra,
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    this.#output = '';
    child.stdout!.on('data', (d: Buffer) => (this.#output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.#output += d.toString()));
    const deadline = Date.now() + 20_000;
    while (!this.#output.includes('Tiota is running')) {
      if (child.exitCode !== null)
        throw new Error(`server exited (${child.exitCode}):\n${this.#output}`);
      if (Date.now() > deadline) throw new Error(`server did not start:\n${this.#output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Ends the process with `signal` (SIGKILL: no cleanup at all) and waits until it is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await gone;
  }

  output(): string {
    return this.#output;
  }

  async token(): Promise<string> {
    return (await readFile(path.join(this.dataDir, 'admin-token'), 'utf8')).trim();
  }
}
