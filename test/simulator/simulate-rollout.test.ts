import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { FIXTURE, FIXTURE_SHA256 } from '../agent/helpers/fixture.js';
import { waitFor } from '../agent/helpers/test-broker.js';

const REPO = path.resolve(__dirname, '../..');
const DEVICES = 1000;

let server: TestServer;
let simDir: string;

beforeAll(async () => {
  server = await startTestServer();
  simDir = await mkdtemp(path.join(os.tmpdir(), 'tiota-sim-e2e-'));
});
afterAll(async () => {
  await server?.stop();
  await rm(simDir, { recursive: true, force: true });
});

/** `tiota simulate …` as an operator runs it; resolves with its exit code and output. */
function simulate(args: string[]) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(REPO, 'src/cli/main.ts'), 'simulate', ...args],
    {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TIOTA_TOKEN: server.token },
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null }>((resolve) =>
    child.on('exit', (code) => resolve({ code })),
  );
  return { child, done, stdout: () => stdout, stderr: () => stderr };
}

describe('tiota simulate against a running server', () => {
  it(`completes a rollout of the fixture on ${DEVICES} TiJOS devices; the summary matches the server`, async () => {
    const prefix = `e2e${process.pid}`;
    const run = simulate([
      '--devices',
      String(DEVICES),
      '--profile',
      'tijos',
      '--server',
      server.httpUrl,
      '--prefix',
      prefix,
      '--rollout',
      '1', // the first rollout of this fresh server, created below
      '--reboot-seconds',
      '0.2-0.5',
      '--start-rate',
      '1000',
      '--sim-dir',
      simDir,
      '--json',
    ]);
    try {
      // Every device registered through the API and said hello with its version.
      await waitFor(() => run.stderr().includes('devices started'), 90_000, 'devices started');
      await waitUntil(async () => {
        const { body } = await server.api('GET', `/devices?tag=${prefix}&version=1.0.0&limit=1`);
        return body.total === DEVICES;
      }, 'every hello');

      const upload = await fetch(`${server.httpUrl}/api/v1/packages?version=2.0.0`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${server.token}`,
          'content-type': 'application/octet-stream',
        },
        body: FIXTURE,
      });
      const pkg = (await upload.json()) as { id: number; sha256: string };
      expect(upload.status).toBe(201);
      expect(pkg.sha256).toBe(FIXTURE_SHA256);
      const created = await server.api('POST', '/rollouts', {
        packageId: pkg.id,
        target: { tags: [prefix] },
        // A canary of 50, then everyone; no soak so the test does not wait a minute.
        settings: { canary: 50, batchSize: 0, soakSeconds: 0 },
      });
      expect(created.status).toBe(201);
      expect(created.body.id).toBe(1);

      const { code } = await run.done;
      expect(code, run.stderr()).toBe(0);
      const summary = JSON.parse(run.stdout());
      const { body: rollout } = await server.api('GET', '/rollouts/1');
      expect(rollout.status).toBe('completed');
      expect(rollout.counts.succeeded).toBe(DEVICES);

      expect(summary.ended).toBe('settled');
      expect(summary.devices).toBe(DEVICES);
      expect(summary.states).toMatchObject({ succeeded: DEVICES, failed: 0, rolled_back: 0 });
      expect(summary.versions).toEqual({ '2.0.0': DEVICES });
      expect(summary.codes).toEqual({ '0': DEVICES });
      expect(summary.downloads.count).toBe(DEVICES);
      // The simulator's own comparison with the server's counts.
      expect(summary.rollout.counts).toEqual(rollout.counts);
      expect(summary.rollout.comparison).toMatchObject({ matches: true, exact: true });
      const { body: upgraded } = await server.api(
        'GET',
        `/devices?tag=${prefix}&version=2.0.0&limit=1`,
      );
      expect(upgraded.total).toBe(DEVICES);
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
    }
  }, 150_000);
});

async function waitUntil(probe: () => Promise<boolean>, what: string, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
