import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_TAPK } from '../support/fixture.js';
import { freePort, runTiota, spawnTiota, type SpawnedProcess } from '../support/processes.js';

/**
 * Issue "Foundation", done-when: the whole flow with real processes over real sockets — the
 * server process, the agent process and the CLI — on the real fixture.
 */
describe('TiJOS upgrade flow with real processes', () => {
  let work: string;
  let server: SpawnedProcess;
  let agent: SpawnedProcess | undefined;
  let env: NodeJS.ProcessEnv;
  let httpUrl: string;
  let fixture: Buffer;

  const cli = async (...args: string[]) => {
    const result = await runTiota(args, env);
    if (result.code !== 0) throw new Error(`tiota ${args.join(' ')} failed: ${result.stderr}`);
    return result.stdout;
  };
  const cliJson = async (...args: string[]) => JSON.parse(await cli(...args, '--json'));

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'tiota-e2e-'));
    fixture = await readFile(FIXTURE_TAPK);
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    httpUrl = `http://127.0.0.1:${httpPort}`;
    const dataDir = path.join(work, 'server');
    server = spawnTiota([
      'server',
      '--data-dir',
      dataDir,
      '--http-host',
      '127.0.0.1',
      '--http-port',
      String(httpPort),
      '--mqtt-host',
      '127.0.0.1',
      '--mqtt-port',
      String(mqttPort),
      '--public-url',
      httpUrl,
      '--log-level',
      'warn',
    ]);
    await server.waitFor('Tiota is running');
    env = { TIOTA_SERVER: httpUrl, TIOTA_DATA_DIR: dataDir };
  });

  afterAll(async () => {
    await agent?.stop();
    await server?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('refuses a corrupt .tapk (one flipped byte) and stores nothing', async () => {
    const corrupt = Buffer.from(fixture);
    corrupt[1234] ^= 0x04;
    const file = path.join(work, 'corrupt.tapk');
    await writeFile(file, corrupt);
    const result = await runTiota(['package', 'push', file, '--version', '2.0.0'], env);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/CRC-16.*\[tapk_invalid\]/);
    expect((await cliJson('package', 'list')).packages).toEqual([]);
    const stored = path.join(work, 'server', 'packages');
    expect(await readdir(path.join(stored, 'tmp'))).toEqual([]);
    expect(await readdir(path.join(stored, 'sha256'))).toEqual([]);
  });

  it('upgrades a registered agent to the fixture, counted only after its post-restart report', async () => {
    const pkg = await cliJson('package', 'push', FIXTURE_TAPK, '--version', '2.0.0');
    expect(pkg).toMatchObject({ app: 'tijos-http-ota', version: '2.0.0', size: fixture.length });

    const credentials = path.join(work, 'lab-1.json');
    await writeFile(credentials, await cli('device', 'add', 'lab-1', '--tag', 'lab', '--json'));
    const agentDir = path.join(work, 'lab-1');
    agent = spawnTiota([
      'agent',
      '--credentials',
      credentials,
      '--data-dir',
      agentDir,
      '--app-name',
      'tijos-http-ota',
      '--app-version',
      '1.0.0',
      '--health-window',
      '1',
    ]);
    await waitUntil(
      async () => (await cliJson('device', 'show', 'lab-1')).version === '1.0.0',
      'agent hello',
    );

    const rollout = await cliJson(
      'rollout',
      'create',
      '--package',
      String(pkg.id),
      '--devices',
      'lab-1',
    );
    const done = await waitUntil(async () => {
      const view = await cliJson('rollout', 'show', String(rollout.id));
      return view.status === 'completed' ? view : null;
    }, 'rollout completed');
    expect(done.counts.succeeded).toBe(1);

    const device = await cliJson('device', 'show', 'lab-1');
    expect(device.version).toBe('2.0.0');
    const history = [...device.history].reverse();
    const kinds = history.map((e: { kind: string }) => e.kind);
    const succeededAt = kinds.indexOf('succeeded');
    // Upgraded only after the device, restarted, said hello with the new version.
    const newHello = history.findIndex(
      (e: any) => e.kind === 'hello' && e.detail.version === '2.0.0',
    );
    expect(kinds.indexOf('status.restarting')).toBeGreaterThan(-1);
    expect(newHello).toBeGreaterThan(kinds.indexOf('status.restarting'));
    expect(succeededAt).toBeGreaterThan(newHello);

    // The URL the device got, with a 4-digit app id in front, stays under 128 characters.
    const command = history.find((e: any) => e.kind === 'command');
    expect(`1234 ${command.detail.url}`.length).toBeLessThan(128);

    // The agent's app folder holds the new package byte for byte, and the old app is gone.
    const apps = await readdir(path.join(agentDir, 'apps'));
    expect(apps).toHaveLength(1);
    expect((await readFile(path.join(agentDir, 'apps', apps[0]))).equals(fixture)).toBe(true);
    const state = JSON.parse(await readFile(path.join(agentDir, 'state.json'), 'utf8'));
    expect(JSON.stringify(state)).not.toContain('"1.0.0"');

    // A token with one changed character is refused.
    const url: string = command.detail.url;
    const at = url.length - 10;
    const changed = url.slice(0, at) + (url[at] === 'x' ? 'y' : 'x') + url.slice(at + 1);
    expect((await fetch(changed)).status).toBe(403);
    expect((await fetch(url)).status).toBe(200);
  });

  it("does not let a device subscribe to another device's topics", async () => {
    await cli('device', 'add', 'lab-2');
    const creds = JSON.parse(await readFile(path.join(work, 'lab-1.json'), 'utf8'));
    const client = await mqtt.connectAsync(creds.mqttUrl, {
      username: creds.username,
      password: creds.password,
      clientId: 'intruder',
      reconnectPeriod: 0,
    });
    await expect(client.subscribeAsync('tiota/v1/d/lab-2/cmd', { qos: 1 })).rejects.toThrow(
      /Subscribe error/,
    );
    await expect(client.subscribeAsync('tiota/v1/d/#', { qos: 1 })).rejects.toThrow(
      /Subscribe error/,
    );
    await client.endAsync(true);
  });
});

async function waitUntil<T>(
  check: () => Promise<T | null | false>,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => null);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
