import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/mqtt-device.js';
import { TEST_DATABASES } from '../support/test-databases.js';
import { installCommand, quick, RolloutLab } from './helpers/rollout-lab.js';

/** The per-device state machine (docs/rollouts.md, "States") driven by a bare MQTT device. */
describe.each(TEST_DATABASES)('device states on %s', (database) => {
  let lab: RolloutLab;

  beforeAll(async () => {
    lab = await RolloutLab.start(database);
  });
  afterAll(() => lab?.stop());

  it('does not count "installed, restarting" as success; a later old version is rolled_back', async () => {
    await lab.register(['s1']);
    const device = await lab.connect('s1');
    const id = await lab.rollout('2.0.0', ['s1'], quick());
    const command = await installCommand(device, 1);
    await device.status({ cmd: command.id, state: 'downloading' });
    await (await fetch(command.url)).arrayBuffer();
    await device.status({ cmd: command.id, state: 'installing' });
    await device.status({ cmd: command.id, state: 'restarting' });

    const restarting = await lab.until(id, (v) => v.counts.restarting === 1, 'restarting');
    expect(restarting.counts.succeeded).toBe(0);
    expect(restarting.status).toBe('running');

    // Duplicate and out-of-order reports change nothing.
    await device.status({ cmd: command.id, state: 'accepted' });
    await device.status({ cmd: command.id, state: 'downloading' });
    await device.status({ cmd: command.id, state: 'restarting' });
    // A report for an action that does not exist is logged and dropped.
    await device.status({ cmd: 'a99999.1', state: 'succeeded', version: '2.0.0' });
    await device.status({ cmd: 'garbage', state: 'failed' });
    await new Promise((r) => setTimeout(r, 300));
    expect((await lab.view(id)).counts.restarting).toBe(1);

    await lab.restart(device, '1.0.0');
    const done = await lab.until(id, (v) => v.status === 'completed', 'completed');
    expect(done.counts).toMatchObject({ rolled_back: 1, succeeded: 0 });
    const action = await lab.action('s1');
    expect(action).toMatchObject({
      state: 'rolled_back',
      errorCode: 'came_back_on_old_version',
      attempt: 1,
    });

    // A rolled-back device may be assigned the same version again later.
    const again = await lab.rollout('2.0.0', ['s1'], quick());
    const back = await lab.connect('s1', '1.0.0');
    await lab.install(back, await installCommand(back, 1), '2.0.0');
    await lab.until(
      again,
      (v) => v.status === 'completed' && v.counts.succeeded === 1,
      'second rollout',
    );
  });

  it('refuses a report holding a NUL character, which PostgreSQL cannot store, and handles the next', async () => {
    await lab.register(['n1']);
    const device = await lab.connect('n1');
    await lab.rollout('2.0.0', ['n1'], quick({ maxRetries: 0 }));
    const command = await installCommand(device, 1);
    await device.status({ cmd: command.id, state: 'failed', reason: 'disk\u0000full' });
    await device.status({ cmd: command.id, state: 'failed', reason: 'disk_full' });
    const action = await eventually(async () => {
      const a = await lab.action('n1');
      return a.state === 'failed' && a;
    });
    // Had the first been taken, the action would have failed with its reason.
    expect(action.errorCode).toBe('disk_full');
  });

  it('keeps the reason a device gives in its hello for an attempt that came back on the old version', async () => {
    await lab.register(['why1']);
    const device = await lab.connect('why1');
    await lab.rollout('2.0.0', ['why1'], quick({ maxRetries: 0 }));
    const command = await installCommand(device, 1);
    await device.status({ cmd: command.id, state: 'installing' });
    // The agent's new app crashed in its health window: back on 1.0.0, hello before status.
    await lab.restart(device, '1.0.0', {
      last: { cmd: command.id, state: 'rolled_back', code: -5, reason: 'app_crashed' },
    });
    const action = await eventually(async () => {
      const a = await lab.action('why1');
      return a.state === 'rolled_back' && a;
    });
    expect(action.errorCode).toBe('app_crashed');
  });

  it('retries a failed download as a new attempt with a new command id, ignoring the old one', async () => {
    await lab.register(['r1']);
    const device = await lab.connect('r1');
    const id = await lab.rollout(
      '2.0.0',
      ['r1'],
      quick({ maxRetries: 1, retryBackoffSeconds: 0.2 }),
    );
    const first = await installCommand(device, 1);
    await device.status({ cmd: first.id, state: 'failed', code: -1, http: 503 });

    const second = await installCommand(device, 2);
    expect(second.id).toBe(first.id.replace(/\.1$/, '.2'));
    // A late report of the first attempt changes nothing.
    await device.status({ cmd: first.id, state: 'failed', code: -1 });
    await new Promise((r) => setTimeout(r, 200));
    expect(await lab.action('r1')).toMatchObject({
      state: 'sent',
      attempt: 2,
      errorCode: 'ota_-1',
    });

    // The second attempt fails too: no retries left.
    await device.status({ cmd: second.id, state: 'failed', code: -2 });
    const done = await lab.until(id, (v) => v.status === 'completed', 'completed');
    expect(done.counts.failed).toBe(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(device.commands).toHaveLength(2);
    await device.close();
  });

  it('times a silent device out at its step deadline', async () => {
    await lab.register(['t1']);
    const device = await lab.connect('t1');
    const id = await lab.rollout('2.0.0', ['t1'], quick({ ackTimeoutSeconds: 0.5, maxRetries: 0 }));
    await installCommand(device, 1);
    const done = await lab.until(id, (v) => v.status === 'completed', 'completed', 5000);
    expect(done.counts.timed_out).toBe(1);
    expect(await lab.action('t1')).toMatchObject({ errorCode: 'timeout_sent' });
    await device.close();
  });

  it('cancels a rollout: a device holding its command is told, one already downloading finishes', async () => {
    await lab.register(['x1', 'x2']);
    const waiting = await lab.connect('x1');
    const working = await lab.connect('x2');
    const id = await lab.rollout('2.0.0', ['x1', 'x2'], quick());
    const told = await installCommand(waiting, 1);
    const started = await installCommand(working, 1);
    await working.status({ cmd: started.id, state: 'downloading' });
    await lab.until(id, (v) => v.counts.downloading === 1, 'downloading');

    // Paused first: the pause's reason does not outlive it.
    await lab.server.api('POST', `/rollouts/${id}/pause`);
    const canceled = await lab.server.api('POST', `/rollouts/${id}/cancel`);
    expect(canceled.body).toMatchObject({
      status: 'canceled',
      pauseReason: null,
      counts: { canceled: 1, downloading: 1 },
    });
    expect(await waiting.nthCommand(2)).toEqual({ v: 1, op: 'cancel', id: told.id });
    await lab.install(working, started, '2.0.0');
    await lab.until(id, (v) => v.counts.succeeded === 1, 'the started device counted');
    expect(working.commands).toHaveLength(1);
    await waiting.close();
  });

  it("keeps a canceled rollout's package while its started devices still work on it", async () => {
    await lab.register(['p1']);
    const packageId = await lab.upload('4.0.0');
    const device = await lab.connect('p1');
    const id = await lab.rollout('4.0.0', ['p1'], quick());
    const command = await installCommand(device, 1);
    await device.status({ cmd: command.id, state: 'downloading' });
    await device.status({ cmd: command.id, state: 'installing' });
    await lab.until(id, (v) => v.counts.installing === 1, 'installing');
    await lab.server.api('POST', `/rollouts/${id}/cancel`);

    const refused = await lab.server.api('DELETE', `/packages/${packageId}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({
      code: 'package_in_use',
      message: `package ${packageId} is in use: 1 device(s) are still installing it; delete it once they finish or time out`,
    });

    // The device comes back on the new version: judged against the package, it succeeded.
    await lab.restart(device, '4.0.0');
    await lab.until(id, (v) => v.counts.succeeded === 1, 'succeeded');
    expect((await lab.server.api('DELETE', `/packages/${packageId}`)).status).toBe(204);
    await device.close();
  });

  it('sends a device that is offline nothing, and its command when it says hello', async () => {
    await lab.register(['o1']);
    const id = await lab.rollout('2.0.0', ['o1'], quick());
    await new Promise((r) => setTimeout(r, 300));
    expect(await lab.action('o1')).toMatchObject({ state: 'queued', attempt: 0 });
    const device = await lab.connect('o1');
    const command = await installCommand(device, 1);
    expect(command.version).toBe('2.0.0');
    await eventually(async () => (await lab.action('o1')).state === 'sent', 5000, 'sent');
    await lab.server.api('POST', `/rollouts/${id}/cancel`);
    await device.close();
  });
});
