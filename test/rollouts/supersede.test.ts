import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASES } from '../support/test-databases.js';
import { installCommand, quick, RolloutLab } from './helpers/rollout-lab.js';

/** A device is in at most one active rollout per app; the newest assignment wins. */
describe.each(TEST_DATABASES)('supersede on %s', (database) => {
  let lab: RolloutLab;

  beforeAll(async () => {
    lab = await RolloutLab.start(database);
  });
  afterAll(() => lab?.stop());

  it('sends a device that was offline while v2 then v3 were assigned exactly one command, for v3', async () => {
    await lab.register(['off-1']);
    const device = await lab.connect('off-1');
    await device.close(); // offline: the last will tells the server
    await new Promise((r) => setTimeout(r, 200));

    const v2 = await lab.rollout('2.0.0', ['off-1'], quick());
    const v3 = await lab.rollout('3.0.0', ['off-1'], quick());
    const back = await lab.connect('off-1');
    const command = await installCommand(back, 1);
    expect(command.version).toBe('3.0.0');
    await new Promise((r) => setTimeout(r, 500));
    expect(back.commands).toHaveLength(1);

    const older = await lab.until(v2, (v) => v.status === 'completed', 'v2 rollout done');
    expect(older.counts.canceled).toBe(1);
    const devices = (await lab.server.api('GET', `/rollouts/${v2}/devices`)).body.devices;
    expect(devices[0].errorCode).toBe('superseded');

    await lab.install(back, command, '3.0.0');
    await lab.until(
      v3,
      (v) => v.status === 'completed' && v.counts.succeeded === 1,
      'v3 rollout done',
    );
  });

  it('tells an online device its superseded command is canceled, then sends the newer one', async () => {
    await lab.register(['on-1']);
    const device = await lab.connect('on-1');
    await lab.rollout('2.0.0', ['on-1'], quick());
    const first = await installCommand(device, 1);
    await lab.rollout('3.0.0', ['on-1'], quick());
    expect(await device.nthCommand(2)).toEqual({ v: 1, op: 'cancel', id: first.id });
    expect(await installCommand(device, 3)).toMatchObject({ version: '3.0.0' });
    await device.close();
  });

  it('lets a started older action finish before the newer one is sent', async () => {
    await lab.register(['busy-1']);
    const device = await lab.connect('busy-1');
    const v2 = await lab.rollout('2.0.0', ['busy-1'], quick());
    const first = await installCommand(device, 1);
    await device.status({ cmd: first.id, state: 'downloading' });
    await lab.until(v2, (v) => v.counts.downloading === 1, 'downloading');

    const v3 = await lab.rollout('3.0.0', ['busy-1'], quick());
    await new Promise((r) => setTimeout(r, 400));
    expect(device.commands).toHaveLength(1); // still busy with v2

    const upgraded = await lab.install(device, first, '2.0.0');
    await lab.until(v2, (v) => v.counts.succeeded === 1, 'v2 succeeded');
    const next = await installCommand(upgraded, 1);
    expect(next.version).toBe('3.0.0');
    await lab.until(v3, (v) => v.counts.sent === 1, 'v3 sent');
    await upgraded.close();
  });
});
