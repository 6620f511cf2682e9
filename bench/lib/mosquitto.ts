/**
 * A Mosquitto of our own on a free loopback port (never the system one on 1883), anonymous:
 * the server's Mosquitto password/ACL integration is not part of what is timed here.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const MOSQUITTO_BIN = process.env.TIOTA_BENCH_MOSQUITTO ?? '/usr/sbin/mosquitto';

export interface Mosquitto {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startMosquitto(): Promise<Mosquitto> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tiota-bench-mosquitto-'));
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  // Queue and in-flight limits raised so neither the server's burst of commands nor a fleet's
  // burst of reports is throttled by the broker's defaults (20 in flight per client).
  await writeFile(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'max_inflight_messages 1000',
      'max_queued_messages 100000',
      'log_dest none',
      '',
    ].join('\n'),
  );
  const child = spawn(MOSQUITTO_BIN, ['-c', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited (${child.exitCode})`);
    if (await canConnect(port)) break;
    if (Date.now() > deadline) throw new Error('mosquitto did not start listening');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}
