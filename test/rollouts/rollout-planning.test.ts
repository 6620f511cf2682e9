import { describe, expect, it } from 'vitest';
import { batchSizes } from '../../src/server/domain/batch-plan.js';
import { pacingFor } from '../../src/server/domain/pacing-plan.js';
import { buildPlan, DEFAULT_LIMITS } from '../../src/server/domain/rollout-plan.js';
import { DEFAULT_SETTINGS, parseSettings } from '../../src/server/domain/rollout-settings.js';

const settings = (given: Record<string, unknown>) => parseSettings(given);

describe('rollout settings', () => {
  it('fills in every default, so {} is a valid setting', () => {
    expect(parseSettings({})).toEqual(DEFAULT_SETTINGS);
    expect(parseSettings(undefined)).toEqual(DEFAULT_SETTINGS);
  });

  it('takes counts and percents where a quantity is asked for, and null for "never"', () => {
    expect(settings({ canary: '2%', errorThreshold: 3 })).toMatchObject({
      canary: '2%',
      errorThreshold: 3,
    });
    expect(settings({ errorThreshold: null }).errorThreshold).toBeNull();
  });

  it.each([
    [{ canary: '120%' }, /canary/],
    [{ canary: -1 }, /canary/],
    [{ batchStrategy: 'random' }, /batchStrategy/],
    [{ growthFactor: 0.5 }, /growthFactor/],
    [{ successThreshold: 101 }, /successThreshold/],
    [{ ackTimeoutSeconds: 0 }, /ackTimeoutSeconds/],
    [{ afterBatch: 'stop' }, /afterBatch/],
    [{ maxRetries: 1.5 }, /maxRetries/],
    [{ colour: 'red' }, /unknown rollout setting "colour"/],
  ])('refuses %j', (given, message) => {
    expect(() => parseSettings(given)).toThrow(message);
  });
});

describe('batch sizes', () => {
  it('puts a canary first, then grows exponentially', () => {
    expect(batchSizes(1000, settings({ canary: 5, batchSize: 50, growthFactor: 2 }))).toEqual([
      5, 50, 100, 200, 400, 245,
    ]);
  });

  it('takes a percent canary, rounded up', () => {
    expect(
      batchSizes(250, settings({ canary: '1%', batchStrategy: 'fixed', batchSize: 100 })),
    ).toEqual([3, 100, 100, 47]);
  });

  it('splits into fixed batches, or all remaining devices in one with batchSize 0', () => {
    expect(batchSizes(7, settings({ canary: 0, batchStrategy: 'fixed', batchSize: 5 }))).toEqual([
      5, 2,
    ]);
    expect(batchSizes(7, settings({ canary: 0, batchSize: 0 }))).toEqual([7]);
    expect(batchSizes(7, settings({ canary: 2, batchSize: 0 }))).toEqual([2, 5]);
  });

  it('splits by percent of the whole target', () => {
    expect(
      batchSizes(100, settings({ canary: 0, batchStrategy: 'percentage', batchPercent: 30 })),
    ).toEqual([30, 30, 30, 10]);
  });

  it('caps every batch at maxBatchSize', () => {
    expect(
      batchSizes(1000, settings({ canary: 0, batchSize: 100, growthFactor: 3, maxBatchSize: 400 })),
    ).toEqual([100, 300, 400, 200]);
  });

  it('uses a canary no larger than the fleet', () => {
    expect(batchSizes(3, DEFAULT_SETTINGS)).toEqual([3]);
  });

  it('sends a crashing package to at most 1.5 % of 10,000 devices with the defaults (issue 9)', () => {
    // With the defaults the canary is paused unless 95 % of it succeeds, so only it is exposed.
    const sizes = batchSizes(10_000, DEFAULT_SETTINGS);
    expect(sizes[0]).toBeLessThanOrEqual(150);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(10_000);
  });
});

describe('pacing', () => {
  const base = { bandwidthBytesPerSecond: 1_000_000, settings: DEFAULT_SETTINGS, serverCap: 1000 };

  it('admits no more TiJOS downloads than can share the bandwidth within 60 s', () => {
    // 1 MB package, 1 MB/s: each download may use 45 s of the 60 s (the rest is install).
    const pacing = pacingFor({ ...base, packageSize: 1_000_000, profiles: ['tijos', 'agent'] });
    expect(pacing).toMatchObject({
      profile: 'tijos',
      deadlineSeconds: 60,
      maxConcurrentDownloads: 45,
      limitedBy: 'bandwidth',
    });
    // 45 devices sharing 1 MB/s each receive 1 MB in 45 s.
    expect((45 * 1_000_000) / base.bandwidthBytesPerSecond).toBeLessThanOrEqual(45);
  });

  it('treats a device of unknown profile as TiJOS', () => {
    expect(pacingFor({ ...base, packageSize: 1_000_000, profiles: [null] }).profile).toBe('tijos');
  });

  it('gives agents (resumable downloads) the download timeout as their deadline', () => {
    const pacing = pacingFor({ ...base, packageSize: 10_000_000, profiles: ['agent'] });
    expect(pacing.deadlineSeconds).toBe(600);
    expect(pacing.maxConcurrentDownloads).toBe(60);
  });

  it('takes the lowest of bandwidth, the setting and the server cap', () => {
    expect(pacingFor({ ...base, packageSize: 1000, profiles: ['tijos'] })).toMatchObject({
      maxConcurrentDownloads: 1000,
      limitedBy: 'server',
    });
    const capped = settings({ maxConcurrentDownloads: 10 });
    expect(
      pacingFor({ ...base, settings: capped, packageSize: 1000, profiles: ['tijos'] }),
    ).toMatchObject({ maxConcurrentDownloads: 10, limitedBy: 'setting' });
  });

  it('warns when even one download cannot finish in time', () => {
    const pacing = pacingFor({ ...base, packageSize: 100_000_000, profiles: ['tijos'] });
    expect(pacing.maxConcurrentDownloads).toBe(1);
    expect(pacing.warnings[0]).toMatch(/one download alone takes 100\.0 s/);
  });

  it('plans batches with an expected duration', () => {
    const plan = buildPlan({
      profiles: Array(100).fill('tijos'),
      packageSize: 125_000,
      settings: settings({ canary: 10, batchStrategy: 'fixed', batchSize: 45, soakSeconds: 60 }),
      limits: { ...DEFAULT_LIMITS, bandwidthBytesPerSecond: 1_250_000 },
    });
    expect(plan.batches.map((b) => [b.size, b.canary])).toEqual([
      [10, true],
      [45, false],
      [45, false],
    ]);
    // canary: 1 s transfer + 30 s restart + 60 s soak; then 4.5 + 30 + 60; the last has no soak.
    expect(plan.batches.map((b) => b.expectedSeconds)).toEqual([91, 94.5, 34.5]);
    expect(plan.expectedSeconds).toBe(220);
  });
});
