import { describe, expect, it } from 'vitest';
import {
  NO_FAULTS,
  compareWithServer,
  downloadTimes,
  drawFaults,
  parseLinkSpeed,
  seededRandom,
  summarize,
  type DeviceOutcome,
} from '../../src/simulator/index.js';
import { newOutcome } from '../../src/simulator/device-outcome.js';

function outcome(partial: Partial<DeviceOutcome>): DeviceOutcome {
  return { ...newOutcome('1.0.0'), online: true, ...partial };
}

describe('fleet summary', () => {
  it('gives nearest-rank percentiles of download times', () => {
    const times = Array.from({ length: 100 }, (_, i) => (i + 1) * 10); // 10 … 1000 ms
    expect(downloadTimes(times)).toEqual({
      count: 100,
      p50Ms: 500,
      p90Ms: 900,
      p99Ms: 990,
      maxMs: 1000,
      meanMs: 505,
    });
    expect(downloadTimes([])).toBeNull();
    expect(downloadTimes([7])).toMatchObject({ p50Ms: 7, p99Ms: 7 });
  });

  it('counts devices per state, code, reason, version and MQTT refusal code', () => {
    const s = summarize(
      'tijos',
      [
        outcome({ state: 'succeeded', code: 0, version: '2.0.0', commands: 1, downloadMs: 100 }),
        outcome({ state: 'failed', code: -1, commands: 2, refusals: { 3: 2 } }),
        outcome({ state: 'rolled_back', code: 0, reason: 'crashed_at_start', commands: 1 }),
        outcome({ online: false }),
      ],
      1500,
    );
    expect(s.states).toMatchObject({ succeeded: 1, failed: 1, rolled_back: 1, idle: 1 });
    expect(s.codes).toEqual({ '0': 2, '-1': 1 });
    expect(s.reasons).toEqual({ crashed_at_start: 1 });
    expect(s.versions).toEqual({ '2.0.0': 1, '1.0.0': 3 });
    expect(s.commands).toBe(4);
    expect(s.online).toBe(3);
    expect(s.mqttRefusals).toEqual({ '3': 2 });
    expect(s.elapsedSeconds).toBe(1.5);
  });

  it('compares with the server: exact, or matching outcomes with another failed/rolled_back split', () => {
    const s = summarize(
      'tijos',
      [
        outcome({ state: 'succeeded' }),
        outcome({ state: 'failed' }),
        outcome({ state: 'rejected' }),
      ],
      0,
    );
    const server = { succeeded: 1, failed: 2, rolled_back: 0, timed_out: 0, canceled: 0 };
    expect(compareWithServer(s, server)).toMatchObject({ matches: true, exact: true });
    const split = { ...server, failed: 1, rolled_back: 1 };
    expect(compareWithServer(s, split)).toMatchObject({ matches: true, exact: false });
    expect(compareWithServer(s, { ...server, succeeded: 2 })).toMatchObject({ matches: false });
  });

  it('counts devices never sent a command as canceled when the rollout was canceled', () => {
    const s = summarize(
      'tijos',
      [outcome({ state: 'succeeded' }), outcome({ state: 'canceled' }), outcome({})],
      0,
    );
    expect(s.states).toMatchObject({ succeeded: 1, canceled: 1, idle: 1 });
    const server = { succeeded: 1, canceled: 2 };
    expect(compareWithServer(s, server, 'canceled')).toMatchObject({ matches: true, exact: true });
    // While the rollout runs, a device without a command is not yet anything on the server.
    expect(compareWithServer(s, { succeeded: 1, canceled: 1 }, 'running')).toMatchObject({
      exact: true,
    });
  });
});

describe('fault plan', () => {
  it('draws the same faults from the same seed', () => {
    const settings = {
      ...NO_FAULTS,
      linkSpeed: { min: 1000, max: 5000 },
      crashRate: 0.5,
      offlineRate: 0.5,
    };
    const a = seededRandom(42);
    const b = seededRandom(42);
    const first = Array.from({ length: 50 }, () => drawFaults(settings, a));
    expect(Array.from({ length: 50 }, () => drawFaults(settings, b))).toEqual(first);
    for (const f of first) {
      expect(f.bytesPerSecond).toBeGreaterThanOrEqual(1000);
      expect(f.bytesPerSecond).toBeLessThanOrEqual(5000);
    }
    const crashing = first.filter((f) => f.crashes).length;
    expect(crashing).toBeGreaterThan(10);
    expect(crashing).toBeLessThan(40);
  });

  it('parses link speeds', () => {
    expect(parseLinkSpeed('20000')).toEqual({ min: 20000, max: 20000 });
    expect(parseLinkSpeed('5000-50000')).toEqual({ min: 5000, max: 50000 });
    expect(() => parseLinkSpeed('50-5')).toThrow();
    expect(() => parseLinkSpeed('fast')).toThrow();
  });
});
