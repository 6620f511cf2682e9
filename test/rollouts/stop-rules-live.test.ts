import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASES } from '../support/test-databases.js';
import { installCommand, quick, RolloutLab } from './helpers/rollout-lab.js';

/** Issue 4, done-when: stop rules over a real server, broker and database. */
describe.each(TEST_DATABASES)('stop rules on %s', (database) => {
  let lab: RolloutLab;

  beforeAll(async () => {
    lab = await RolloutLab.start(database);
  });
  afterAll(() => lab?.stop());

  it('pauses a group of 5 (success 100 % + pause, error 50 %) when 4 succeed and 1 fails', async () => {
    const ids = ['g1', 'g2', 'g3', 'g4', 'g5', 'g6', 'g7'];
    await lab.register(ids);
    const devices = await lab.connectAll(ids);
    const settings = quick({
      batchSize: 5,
      successThreshold: 100,
      afterBatch: 'pause',
      errorThreshold: '50%',
    });
    const id = await lab.rollout('2.0.0', ids, settings);

    for (const deviceId of ids.slice(0, 4)) {
      const device = devices.get(deviceId)!;
      await lab.install(device, await installCommand(device, 1), '2.0.0');
    }
    const last = devices.get('g5')!;
    await lab.install(last, await installCommand(last, 1), '1.0.0'); // the new app failed

    const paused = await lab.until(id, (v) => v.status === 'paused', 'paused');
    expect(paused.pauseReason).toBe(
      'batch 1: success threshold not reached: 4 of 5 succeeded (80%), 100% needed',
    );
    expect(paused.batches[0].counts).toEqual({ succeeded: 4, rolled_back: 1 });
    expect(paused.batches[1]).toMatchObject({ started: false, counts: { queued: 2 } });
    expect(paused.currentBatch).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(devices.get('g6')!.commands).toHaveLength(0);
    expect(devices.get('g7')!.commands).toHaveLength(0);

    // Pausing a paused rollout is no error and changes nothing.
    const again = await lab.server.api('POST', `/rollouts/${id}/pause`);
    expect(again.status).toBe(200);
    expect(again.body.pauseReason).toBe(paused.pauseReason);

    // Resuming approves the batch as it stands: the next one starts.
    expect((await lab.server.api('POST', `/rollouts/${id}/resume`)).status).toBe(200);
    await installCommand(devices.get('g6')!, 1);
    await installCommand(devices.get('g7')!, 1);
    expect((await lab.view(id)).currentBatch).toBe(1);
    for (const d of devices.values()) await d.close();
  });

  it('does not let a canceled action block a 100 % success threshold', async () => {
    const ids = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'];
    await lab.register(ids);
    const devices = await lab.connectAll(ids);
    const id = await lab.rollout('2.0.0', ids, quick({ batchSize: 5, successThreshold: 100 }));

    const declined = devices.get('c5')!;
    const command = await installCommand(declined, 1);
    await declined.status({ cmd: command.id, state: 'canceled' }); // the device declined it
    for (const deviceId of ids.slice(0, 4)) {
      const device = devices.get(deviceId)!;
      await lab.install(device, await installCommand(device, 1), '2.0.0');
    }

    await installCommand(devices.get('c6')!, 1); // batch 2 started
    const view = await lab.view(id);
    expect(view.status).toBe('running');
    expect(view.batches[0].counts).toEqual({ succeeded: 4, canceled: 1 });
    for (const d of devices.values()) await d.close();
  });
});
