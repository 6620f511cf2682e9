/**
 * Download benchmark: nginx (one worker, sendfile) and Tiota's download path (one Node
 * process) serve the same two files to wrk, 100 connections, with and without keep-alive.
 * Prints requests/s, MB/s and the Tiota/nginx ratio, and writes the "Downloads" section of
 * docs/benchmarks.md. Loopback only; bounded in time; stops its servers itself.
 *
 *   npm run bench:download            (BENCH_SECONDS=10 per measurement by default;
 *                                      BENCH_ONLY="1 MiB, keep" runs the matching cases only)
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { signDownloadToken } from '../../src/shared/token/download-token.js';
import { nginxWorkerPid, startNginx } from './nginx-server.js';
import { machineFacts, renderSection, writeSection, type CaseResult } from './report.js';
import { processCpuMicros, runWrk, type WrkResult } from './wrk-run.js';

/** A server under test: its URL and the process whose CPU time is read. */
interface Target {
  readonly url: string;
  readonly pid: number;
}

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURE = path.resolve(repo, '../shared/fixtures/tapk/tijos-http-ota.tapk');
/** Measured seconds per server and case, split into rounds that alternate the servers. */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WARMUP_SECONDS = 1;
const CONNECTIONS = 100;
/** Only the cases whose label contains this text (e.g. "1 MiB, keep"); all by default. */
const ONLY = process.env.BENCH_ONLY;

interface FileCase {
  readonly label: string;
  readonly id: number;
  readonly name: string;
  readonly size: number;
}

function ensureTools(): void {
  const missing = ['nginx', 'wrk'].filter((tool) => {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return;
  console.log(`installing ${missing.join(', ')} from Debian's packages…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
    stdio: 'inherit',
    env,
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Starts the Tiota bench server on a port of its choosing; resolves once it listens. */
async function startTiota(
  secret: Buffer,
  files: Record<number, string>,
  memory: number,
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(repo, 'bench/download/tiota-server.ts')],
    {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        BENCH_PORT: '0',
        BENCH_SECRET: secret.toString('hex'),
        BENCH_FILES: JSON.stringify(files),
        BENCH_MEMORY_BYTES: String(memory),
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (line: Buffer) =>
      resolve(Number(/ready (\d+)/.exec(String(line))?.[1])),
    );
    child.once('exit', (code) => reject(new Error(`tiota bench server exited (${code})`)));
  });
  return { child, port };
}

/**
 * Starts nginx on a free port. The port is found free and then handed to nginx, so another
 * process on this shared machine may take it in between: then nginx exits and we try again.
 */
async function startNginxOnFreePort(
  prefix: string,
  root: string,
  probe: string,
): Promise<{ child: ChildProcess; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = startNginx(prefix, root, port);
    const exited = new Promise<'exited'>((resolve) => child.once('exit', () => resolve('exited')));
    const answered = waitForHttp(`http://127.0.0.1:${port}/${probe}`).then(
      () => 'up' as const,
      () => 'silent' as const,
    );
    const outcome = await Promise.race([answered, exited]);
    if (outcome === 'up') return { child, port };
    if (outcome === 'silent') child.kill('SIGTERM');
    if (attempt === 3) throw new Error('nginx did not start (see its error.log above)');
  }
}

async function waitForHttp(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url} did not answer`);
}

/**
 * Measures nginx and Tiota on one case in alternating short rounds, so that whatever else
 * the machine does in the meantime (it is shared) falls on both alike; each server's best
 * round is its capacity, and the median of the per-round ratios is shown beside it.
 */
async function measurePair(
  nginx: Target,
  tiota: Target,
  keepAlive: boolean,
): Promise<{ nginx: WrkResult[]; tiota: WrkResult[] }> {
  const seconds = Math.max(1, Math.round(SECONDS / ROUNDS));
  const run = async (target: Target, s: number): Promise<WrkResult> => {
    const before = processCpuMicros(target.pid);
    const result = await runWrk({
      url: target.url,
      connections: CONNECTIONS,
      seconds: s,
      keepAlive,
    });
    result.serverCpuMicros = processCpuMicros(target.pid) - before;
    return result;
  };
  await run(nginx, WARMUP_SECONDS);
  await run(tiota, WARMUP_SECONDS);

  const results = { nginx: [] as WrkResult[], tiota: [] as WrkResult[] };
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 0) {
      results.nginx.push(await run(nginx, seconds));
      results.tiota.push(await run(tiota, seconds));
    } else {
      results.tiota.push(await run(tiota, seconds));
      results.nginx.push(await run(nginx, seconds));
    }
  }
  return results;
}

async function main(): Promise<void> {
  ensureTools();
  const work = mkdtempSync(path.join(tmpdir(), 'tiota-bench-'));
  const children: ChildProcess[] = [];
  const stop = (): void => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  };
  process.on('SIGINT', () => (stop(), process.exit(130)));

  try {
    const www = path.join(work, 'www');
    execFileSync('mkdir', ['-p', www]);
    chmodSync(work, 0o755);
    copyFileSync(FIXTURE, path.join(www, 'fixture.tapk'));
    writeFileSync(path.join(www, 'one-mib.bin'), randomBytes(1024 * 1024));
    const files: FileCase[] = [
      { label: 'fixture 20 KB', id: 1, name: 'fixture.tapk', size: 20_384 },
      { label: '1 MiB', id: 2, name: 'one-mib.bin', size: 1024 * 1024 },
    ];
    const paths = Object.fromEntries(files.map((f) => [f.id, path.join(www, f.name)]));

    const nginx = await startNginxOnFreePort(path.join(work, 'nginx'), www, files[0].name);
    children.push(nginx.child);
    const secret = randomBytes(32);
    const [tiota, tiotaDisk] = await Promise.all([
      startTiota(secret, paths, 64 * 1024 * 1024),
      startTiota(secret, paths, 0),
    ]);
    children.push(tiota.child, tiotaDisk.child);

    const now = Math.floor(Date.now() / 1000);
    const tokenFor = (f: FileCase) =>
      signDownloadToken(
        {
          keyId: 1,
          packageId: f.id,
          deviceRowId: 1,
          actionId: 1,
          notBefore: now - 60,
          expiresAt: now + 3600,
        },
        secret,
      );
    const nginxPid = await nginxWorkerPid(nginx.child.pid!);
    const nginxAt = (f: FileCase): Target => ({
      url: `http://127.0.0.1:${nginx.port}/${f.name}`,
      pid: nginxPid,
    });
    const tiotaAt = (port: number, pid: number, f: FileCase): Target => ({
      url: `http://127.0.0.1:${port}/d/${tokenFor(f)}`,
      pid,
    });

    const results: CaseResult[] = [];
    for (const f of files) {
      for (const keepAlive of [true, false]) {
        const mode = keepAlive ? 'keep-alive' : 'new connection';
        if (ONLY && !`${f.label}, ${mode}`.includes(ONLY)) continue;
        const rounds = await measurePair(
          nginxAt(f),
          tiotaAt(tiota.port, tiota.child.pid!, f),
          keepAlive,
        );
        results.push({ label: `${f.label}, ${mode}`, size: f.size, ...rounds });
        console.log(renderSection(results.slice(-1), null).split('\n').at(-2));
      }
    }
    // For reference: the 1 MiB file streamed from disk (memory cache off), as large files are.
    for (const keepAlive of [true, false]) {
      const f = files[1];
      const mode = keepAlive ? 'keep-alive' : 'new connection';
      if (ONLY && !`${f.label} from disk, ${mode}`.includes(ONLY)) continue;
      const rounds = await measurePair(
        nginxAt(f),
        tiotaAt(tiotaDisk.port, tiotaDisk.child.pid!, f),
        keepAlive,
      );
      results.push({
        label: `${f.label} from disk, ${mode}`,
        size: f.size,
        ...rounds,
        extra: true,
      });
      console.log(renderSection(results.slice(-1), null).split('\n').at(-2));
    }

    const section = renderSection(results, machineFacts(CONNECTIONS, SECONDS, ROUNDS));
    console.log(`\n${section}`);
    if (ONLY) return; // a partial run does not replace the recorded table
    writeSection(path.join(repo, 'docs/benchmarks.md'), section);
    console.log('written to docs/benchmarks.md (section "Downloads")');
  } finally {
    stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
