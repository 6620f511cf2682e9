import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../../src/server/domain/audit-log.js';
import { openTestDatabase, TEST_DATABASES, type TestDatabase } from '../support/test-databases.js';
import { EngineBench, PACKAGE_SIZE } from './helpers/engine-bench.js';

/** Engine passes on a real database, the bus recorded: pacing, stop rules, retries, races. */
describe.each(TEST_DATABASES)('engine passes on %s', (kind) => {
  let database: TestDatabase;
  // 1 MB packages to TiJOS devices need 1 MB / 45 s = 22.2 kB/s each: 100 kB/s admits 4.
  const limits = { bandwidthBytesPerSecond: 100_000, maxDownloads: 1000 };

  beforeEach(async () => {
    database = await openTestDatabase(kind);
  });
  afterEach(() => database?.close());

  it('never admits more downloads than the bandwidth lets finish within the TiJOS deadline', async () => {
    const bench = await EngineBench.open(database, limits);
    const engine = bench.engine();
    const ids = await bench.devices('p', 12);
    const first = await bench.rollout(ids, { canary: 0, batchSize: 0 });
    expect((await bench.rollouts.get(first)).plan?.pacing).toMatchObject({
      maxConcurrentDownloads: 4,
      limitedBy: 'bandwidth',
    });

    await engine.tick();
    await engine.tick();
    expect(bench.published).toHaveLength(4);
    // 4 downloads × 22.2 kB/s fill the 100 kB/s: a second rollout gets nothing yet.
    const others = await bench.devices('q', 3);
    await bench.rollout(others, { canary: 0, batchSize: 0 });
    await engine.tick();
    expect(bench.published).toHaveLength(4);

    // Two downloads complete: two slots free.
    const sent = (await bench.actions(first)).filter((a) => a.state === 'sent');
    await bench.setState(
      first,
      sent.slice(0, 2).map((a) => a.id),
      'downloaded',
    );
    await engine.tick();
    expect(bench.published).toHaveLength(6);
    expect((PACKAGE_SIZE * 4) / limits.bandwidthBytesPerSecond).toBeLessThanOrEqual(45);
  });

  it('sends no device two commands however many replicas pass at once', async () => {
    const bench = await EngineBench.open(database, {
      bandwidthBytesPerSecond: 1e12,
      maxDownloads: 1000,
    });
    const ids = await bench.devices('race', 60);
    await bench.rollout(ids, { canary: 0, batchSize: 0 });
    const replicas = [bench.engine(), bench.engine(), bench.engine()];
    await Promise.all(replicas.map((e) => e.tick()));
    await Promise.all(replicas.map((e) => e.tick()));
    expect(bench.published).toHaveLength(60);
    expect(new Set(bench.published.map((p) => p.deviceId)).size).toBe(60);
  });

  it('spreads commands over the jitter window, each device still sent once', async () => {
    const bench = await EngineBench.open(database, {
      bandwidthBytesPerSecond: 1e12,
      maxDownloads: 1000,
    });
    const engine = bench.engine();
    const ids = await bench.devices('j', 20);
    const id = await bench.rollout(ids, { canary: 0, batchSize: 0, jitterSeconds: 0.4 });
    await engine.tick();
    expect((await bench.actions(id)).every((a) => a.state === 'sent')).toBe(true);
    expect(bench.published.length).toBeLessThan(20);
    await new Promise((r) => setTimeout(r, 600));
    expect(bench.published).toHaveLength(20);
    expect(new Set(bench.published.map((p) => p.deviceId)).size).toBe(20);
    await engine.stop();
  });

  it('pauses once when two batches cross the error threshold in one pass', async () => {
    const bench = await EngineBench.open(database, limits);
    const ids = await bench.devices('e', 9);
    const id = await bench.rollout(ids, {
      canary: 0,
      batchStrategy: 'fixed',
      batchSize: 3,
      errorThreshold: 1,
      errorMinFinished: 1,
    });
    const actions = await bench.actions(id);
    await database.db
      .updateTable('rollouts')
      .set({ current_batch: 1 })
      .where('id', '=', id)
      .execute();
    await bench.setState(id, [actions[0].id, actions[3].id], 'failed');
    await bench.setState(id, [actions[1].id, actions[2].id, actions[4].id, actions[5].id], 'sent');

    const engine = bench.engine();
    await engine.tick();
    await engine.tick();
    const view = await bench.rollouts.get(id);
    expect(view.status).toBe('paused');
    expect(view.pauseReason).toMatch(/^batch 1: error threshold reached: 1 of 1 finished failed/);
    const pauses = await database.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'rollout.pause')
      .execute();
    expect(pauses).toHaveLength(1);
    expect(bench.published).toHaveLength(0); // the queued batch 3 was never sent
  });

  it('approves on resume only a batch with nothing left to decide', async () => {
    const bench = await EngineBench.open(database, limits);
    const ids = await bench.devices('a', 6);
    const settings = { canary: 0, batchStrategy: 'fixed', batchSize: 3, errorThreshold: null };
    const id = await bench.rollout(ids, settings);
    const actions = await bench.actions(id);
    const approved = async () =>
      (
        await database.db
          .selectFrom('rollouts')
          .select('approved_batch')
          .where('id', '=', id)
          .executeTakeFirstOrThrow()
      ).approved_batch;

    // Paused by the operator mid-batch: resuming leaves the success threshold in force.
    await bench.setState(id, [actions[0].id], 'succeeded');
    await bench.setState(id, [actions[1].id, actions[2].id], 'sent');
    await bench.rollouts.pause(id, SYSTEM_ACTOR);
    await bench.rollouts.resume(id, SYSTEM_ACTOR);
    expect(await approved()).toBe(-1);

    // The batch finished below its threshold and paused: resuming approves it.
    await bench.setState(id, [actions[1].id, actions[2].id], 'failed');
    const engine = bench.engine();
    await engine.tick();
    expect((await bench.rollouts.get(id)).pauseReason).toMatch(/success threshold not reached/);
    await bench.rollouts.resume(id, SYSTEM_ACTOR);
    expect(await approved()).toBe(0);
    await engine.tick();
    expect((await bench.rollouts.get(id)).currentBatch).toBe(1);
  });

  it('retries a silent device with backoff, each attempt a new command id, then times it out', async () => {
    const bench = await EngineBench.open(database, limits);
    let clock = Date.now();
    const engine = bench.engine(() => clock);
    const [device] = await bench.devices('t', 1);
    const settings = { canary: 0, ackTimeoutSeconds: 10, maxRetries: 2, retryBackoffSeconds: 20 };
    const id = await bench.rollout([device], settings);
    const [action] = await bench.actions(id);
    const at = async (seconds: number) => {
      clock += seconds * 1000;
      await engine.tick();
    };

    await at(0); // attempt 1, acknowledged within 10 s or late
    await at(11); // late: queued for a retry in 20 s
    expect((await bench.actions(id))[0]).toMatchObject({
      state: 'queued',
      attempt: 1,
      errorCode: 'timeout_sent',
    });
    await at(19);
    expect(bench.published).toHaveLength(1); // still backing off
    await at(2); // attempt 2
    await at(11); // late again: the backoff doubles to 40 s
    await at(39);
    expect(bench.published).toHaveLength(2);
    await at(2); // attempt 3, the last
    await at(11); // late: no retries left
    await at(0);

    expect(bench.published.map((p) => p.id)).toEqual([1, 2, 3].map((n) => `a${action.id}.${n}`));
    const view = await bench.rollouts.get(id);
    expect(view.status).toBe('completed');
    expect(view.counts.timed_out).toBe(1);
  });

  it('merges a storm of kicks into passes at least 100 ms apart, and drops no kick', async () => {
    const bench = await EngineBench.open(database, limits);
    const engine = bench.engine();
    const passes: number[] = [];
    const tick = engine.tick.bind(engine);
    engine.tick = () => {
      passes.push(Date.now());
      return tick();
    };
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    // 60 reports' worth of kicks over 300 ms: back to back they would be 60 passes.
    for (let i = 0; i < 60; i++) {
      engine.kick();
      await sleep(5);
    }
    await sleep(300);
    expect(passes.length).toBeGreaterThanOrEqual(3);
    expect(passes.length).toBeLessThanOrEqual(6);
    const gaps = passes.slice(1).map((t, i) => t - passes[i]);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(95); // timers may fire a few ms early

    // After a quiet spell a kick runs at once; one right behind it gets a pass of its own.
    const before = passes.length;
    engine.kick();
    engine.kick();
    expect(passes.length).toBe(before + 1);
    await sleep(300);
    expect(passes.length).toBe(before + 2);
    await engine.stop();
  });
});
