import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HelloMessage, StatusMessage } from '../../src/shared/protocol/index.js';
import { FIXTURE, installCommand, signingKeys } from './helpers/fixture.js';
import { PackageServer, sendWhole } from './helpers/package-server.js';
import { TestBroker, waitFor } from './helpers/test-broker.js';

const REPO = path.resolve(__dirname, '../..');
const keys = signingKeys();
let broker: TestBroker;
let server: PackageServer;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  broker = await TestBroker.start();
  server = await PackageServer.start((req, res) => sendWhole(res, FIXTURE));
});
afterAll(async () => {
  await server.close();
  await broker.close();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface RunningAgent {
  readonly deviceId: string;
  readonly dir: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  devicePid(): number | null;
  state(): {
    apps: { id: number; version: string }[];
    trial: { booted: boolean } | null;
    outbox: unknown[];
  };
}

/** `tiota agent` as an operator runs it: the supervisor and its device process. */
async function startAgent(deviceId: string, extra: string[]): Promise<RunningAgent> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tiota-cli-agent-'));
  const credentials = path.join(dir, 'credentials.json');
  await writeFile(
    credentials,
    JSON.stringify({
      deviceId,
      mqttUrl: broker.url,
      username: deviceId,
      password: 'secret',
      signingPublicKey: keys.publicKeyPem,
      serverUrl: server.url,
    }),
  );
  const dataDir = path.join(dir, 'data');
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(REPO, 'src/cli/main.ts'),
      'agent',
      '--credentials',
      credentials,
      '--data-dir',
      dataDir,
      '--app-name',
      'demo-app',
      '--app-version',
      '1.0.0',
      '--log-level',
      'warn',
      ...extra,
    ],
    { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const agent: RunningAgent = {
    deviceId,
    dir,
    child,
    exited,
    devicePid: () => {
      const file = path.join(dataDir, 'device.pid');
      return existsSync(file) ? Number(readFileSync(file, 'utf8')) : null;
    },
    state: () => JSON.parse(readFileSync(path.join(dataDir, 'state.json'), 'utf8')),
  };
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  });
  return agent;
}

const statuses = (id: string) => broker.messages<StatusMessage>(id, 'status');
const hellos = (id: string) => broker.messages<HelloMessage>(id, 'hello');

/** The hello a device sends once it is back after `cmd` (it names `cmd` as its last). */
function helloAfter(id: string, cmd: string): Promise<HelloMessage> {
  return waitFor(() => hellos(id).find((h) => h.last?.cmd === cmd), 20_000, `hello after ${cmd}`);
}

/** Whether a process runs: gone, or a zombie waiting for a reaper, counts as not running. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('tiota agent (supervised process)', () => {
  it('survives a kill inside the health window and a crashing build, then takes a good build', async () => {
    const deviceId = `cli-${process.pid}`;
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tiota-apps-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const appLog = path.join(dir, 'apps.log');
    const agent = await startAgent(deviceId, [
      '--health-window',
      '3',
      '--run',
      // Each app logs its pid; the 2.1.0 build crashes at start, every other version runs.
      `echo $$ {version} >> ${appLog}; test {version} = 2.1.0 && exit 3; exec sleep 600`,
    ]);
    await waitFor(() => hellos(deviceId).length > 0, 20_000, 'first hello');
    const firstPid = agent.devicePid();

    // 1. Killed inside the health window: back on the old app.
    const cmd = installCommand(keys, `${server.url}/d/cli`);
    await broker.publishCommand(deviceId, cmd);
    const trialPid = await waitFor(
      () => agent.devicePid() !== firstPid && agent.state().trial?.booted && agent.devicePid(),
      20_000,
      'trial boot',
    );
    const newApp = await waitFor(
      () =>
        readFileSync(appLog, 'utf8')
          .split('\n')
          .find((l) => l.endsWith(' 2.0.0')),
      10_000,
      'new app started',
    );
    process.kill(trialPid, 'SIGKILL');

    const final = await waitFor(
      () => statuses(deviceId).find((s) => s.state === 'rolled_back'),
      20_000,
      'rolled_back',
    );
    expect(final).toMatchObject({
      cmd: cmd.id,
      reason: 'restarted_in_health_window',
      code: -5,
      version: '1.0.0',
    });
    expect(await helloAfter(deviceId, cmd.id)).toMatchObject({
      version: '1.0.0',
      last: { cmd: cmd.id, state: 'rolled_back' },
    });
    expect(hellos(deviceId).map((h) => h.version)).not.toContain('2.0.0');
    expect(agent.state().apps.map((a) => a.version)).toEqual(['1.0.0']);
    // The new app died with the device process it belonged to, as on a real reboot.
    const appPid = Number(newApp.split(' ')[0]);
    await waitFor(() => !isAlive(appPid), 5000, 'the new app to be gone');

    // 2. A build whose app exits at start: rolled back by the health window.
    const bad = installCommand(keys, `${server.url}/d/bad`, { version: '2.1.0' });
    await broker.publishCommand(deviceId, bad);
    const rolledBack = await waitFor(
      () => statuses(deviceId).find((s) => s.cmd === bad.id && s.state === 'rolled_back'),
      30_000,
      'rolled_back',
    );
    expect(rolledBack).toMatchObject({ reason: 'app_crashed', version: '1.0.0' });

    // 3. A good build: committed after the window, the old app deleted.
    const good = installCommand(keys, `${server.url}/d/good`, { version: '2.2.0' });
    await broker.publishCommand(deviceId, good);
    const succeeded = await waitFor(
      () => statuses(deviceId).find((s) => s.cmd === good.id && s.state === 'succeeded'),
      30_000,
      'succeeded',
    );
    expect(succeeded).toMatchObject({ version: '2.2.0', code: 0 });
    expect(await helloAfter(deviceId, good.id)).toMatchObject({
      app: 'tijos-http-ota',
      version: '2.2.0',
    });
    expect(agent.state().apps.map((a) => a.version)).toEqual(['2.2.0']);
    await waitFor(() => agent.state().outbox.length === 0, 5000, 'outbox drained');

    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  });
});
