import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settingsFromFlags } from '../../src/cli/commands/rollout-settings-flags.js';
import { CLI } from '../support/fixture.js';
import { RolloutLab } from './helpers/rollout-lab.js';

/** `tiota rollout …` as users run it (the compiled CLI; `npm test` builds first). */
describe('tiota rollout', () => {
  let lab: RolloutLab;
  let env: NodeJS.ProcessEnv;

  const tiota = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, 'rollout', ...args], {
        env: { ...process.env, ...env },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });

  beforeAll(async () => {
    lab = await RolloutLab.start('sqlite');
    env = { TIOTA_SERVER: lab.server.httpUrl, TIOTA_TOKEN: lab.server.token };
    await lab.register(['cli-1', 'cli-2', 'cli-3', 'cli-4']);
  });
  afterAll(() => lab?.stop());

  it('prints the plan of a dry run: batches, pacing and expected duration', async () => {
    const pkg = String(lab.packages.get('2.0.0'));
    const devices = '--devices=cli-1,cli-2,cli-3,cli-4';
    const run = await tiota(
      'create',
      '--package',
      pkg,
      devices,
      '--canary',
      '1',
      '--strategy',
      'fixed',
      '--batch-size',
      '2',
      '--soak',
      '30',
      '--dry-run',
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^plan: 4 devices to tijos-http-ota 2\.0\.0 \(20384 bytes\) in 3 batches$/m,
    );
    expect(run.stdout).toMatch(
      /^pacing: at most 1000 devices download at once, limited by the server download cap/m,
    );
    expect(run.stdout).toMatch(/^1\s+1\s+canary\s+~60 s\s+cli-1$/m);
    expect(run.stdout).toMatch(/^3\s+1\s+~30 s\s+cli-4$/m);
    expect(run.stdout).toMatch(/^expected duration: ~3 min if every batch passes its stop rules$/m);
    expect((await lab.server.api('GET', '/rollouts')).body.rollouts).toHaveLength(0);
  });

  it('takes a list option repeated as well as comma-separated', async () => {
    const pkg = String(lab.packages.get('2.0.0'));
    const args = ['--package', pkg, '--devices', 'cli-1', '--devices', 'cli-2,cli-3'];
    const run = await tiota('create', ...args, '--dry-run');
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^plan: 3 devices to /m);
  });

  it('turns setting flags into settings, on top of --settings', () => {
    const options = {
      settings: '{"soakSeconds":5,"canary":3}',
      canary: '2%',
      errorThreshold: 'off',
      pauseAfterBatch: true,
    };
    expect(settingsFromFlags(options)).toEqual({
      soakSeconds: 5,
      canary: '2%',
      errorThreshold: null,
      afterBatch: 'pause',
    });
    expect(() => settingsFromFlags({ soak: 'long' })).toThrow(
      '--soak must be a number, got "long"',
    );
    expect(settingsFromFlags({})).toBeUndefined();
  });

  it('creates, pauses, shows, cancels and watches a rollout', async () => {
    const pkg = String(lab.packages.get('2.0.0'));
    const created = await tiota(
      'create',
      '--package',
      pkg,
      '--devices',
      'cli-1,cli-2',
      '--canary',
      '0',
      '--json',
    );
    const id = String(JSON.parse(created.stdout).id);

    const paused = await tiota('pause', id);
    expect(paused.stdout).toMatch(/^status\s+paused \(paused by operator\)$/m);
    expect((await tiota('watch', id)).code).toBe(2);

    const shown = await tiota('show', id, '--devices');
    expect(shown.stdout).toMatch(/^batch\s+1 of 1$/m);
    expect(shown.stdout).toMatch(/^cli-1\s+1\s+queued\s+0\s+-$/m);

    expect((await tiota('cancel', id)).stdout).toMatch(/^counts\s+canceled=2$/m);
    const watched = await tiota('watch', id);
    expect(watched.code).toBe(3);
    expect(watched.stdout).toContain(`rollout ${id} canceled`);
    expect((await tiota('list')).stdout).toMatch(
      new RegExp(`^${id}\\s+tijos-http-ota 2\\.0\\.0\\s+canceled`, 'm'),
    );
  });
});
