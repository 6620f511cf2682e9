import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/mqtt-device.js';
import { TEST_DATABASES } from '../support/test-databases.js';
import { AutoDevice } from './helpers/auto-device.js';
import { RolloutLab } from './helpers/rollout-lab.js';

const FLEET = 60;

/**
 * The default settings stop a package that crashes at start after the canary (issue 9's
 * fleet-safety figure measures the same with 10,000 devices). The stop rules decide from
 * counts alone, so one database suffices here.
 */
describe('fleet safety with the default settings', () => {
  let lab: RolloutLab;
  const devices: AutoDevice[] = [];

  beforeAll(async () => {
    lab = await RolloutLab.start(TEST_DATABASES[0]);
  });
  afterAll(async () => {
    await Promise.all(devices.map((d) => d.stop()));
    await lab?.stop();
  });

  it('sends a crashing package to the canary only, and pauses with every one rolled back', async () => {
    const ids = Array.from({ length: FLEET }, (_, i) => `fs-${String(i).padStart(2, '0')}`);
    await lab.register(ids);
    for (const id of ids) {
      const device = new AutoDevice(lab.creds.get(id)!, '1.0.0', { restartMs: 50, crashes: true });
      devices.push(device);
      device.start();
    }
    await eventually(
      async () => (await lab.server.api('GET', '/devices?online=true')).body.total === FLEET,
      10_000,
      'fleet online',
    );

    const id = await lab.rollout('2.0.0', ids, {});
    const paused = await lab.until(id, (v) => v.status === 'paused', 'paused', 20_000);
    expect(paused.pauseReason).toMatch(/^batch 1: error threshold reached: 5 of 5 finished failed/);
    expect(paused.counts).toMatchObject({ rolled_back: 5, queued: FLEET - 5 });

    await new Promise((r) => setTimeout(r, 500));
    const reached = devices.filter((d) => d.received.length > 0);
    expect(reached).toHaveLength(5);
    expect(devices.every((d) => d.version === '1.0.0')).toBe(true);
  });
});
