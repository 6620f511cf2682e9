import { describe, expect, it } from 'vitest';
import { parseSettings } from '../../src/server/domain/rollout-settings.js';
import {
  decide,
  type RolloutProgress,
  type StateCounts,
} from '../../src/server/domain/rollout-stop-rules.js';

const NOW = 1_800_000_000_000;

function progress(batches: StateCounts[], extra: Partial<RolloutProgress> = {}): RolloutProgress {
  return {
    currentBatch: 0,
    batchCount: 3,
    batches: new Map(batches.map((counts, b) => [b, counts])),
    approvedBatch: -1,
    errorAck: {},
    soakUntil: null,
    now: NOW,
    ...extra,
  };
}

const rules = (given: Record<string, unknown> = {}) =>
  parseSettings({ soakSeconds: 0, errorMinFinished: 1, ...given });

describe('stop rules', () => {
  it('pauses a group of 5 with success 100 % + pause, error 50 %, when 4 succeed and 1 fails', () => {
    const settings = rules({ successThreshold: 100, afterBatch: 'pause', errorThreshold: '50%' });
    const decision = decide(progress([{ succeeded: 4, failed: 1 }, { queued: 2 }]), settings);
    expect(decision).toEqual({
      kind: 'pause',
      reason: 'batch 1: success threshold not reached: 4 of 5 succeeded (80%), 100% needed',
    });
  });

  it('waits while the batch can still reach its success threshold', () => {
    const settings = rules({ successThreshold: 100, errorThreshold: '50%' });
    expect(
      decide(progress([{ succeeded: 3, failed: 1, restarting: 1 }, { queued: 2 }]), settings),
    ).toEqual({ kind: 'wait' });
  });

  it('does not let a canceled action block 100 %', () => {
    const settings = rules({ successThreshold: 100 });
    expect(decide(progress([{ succeeded: 4, canceled: 1 }, { queued: 2 }]), settings)).toEqual({
      kind: 'advance',
    });
  });

  it('checks the error threshold before the success threshold', () => {
    // 5 of 6 succeeded reaches 80 %, but 1 error of 6 finished also reaches 10 %.
    const settings = rules({ successThreshold: 80, errorThreshold: '10%' });
    const decision = decide(progress([{ succeeded: 5, rolled_back: 1 }, { queued: 5 }]), settings);
    expect(decision).toMatchObject({
      kind: 'pause',
      reason: expect.stringMatching(/^batch 1: error threshold reached: 1 of 6/),
    });
  });

  it('counts error percents over finished devices once enough have finished', () => {
    const settings = rules({ errorThreshold: '50%', errorMinFinished: 4 });
    // 2 of 3 finished failed (67 %), but only 3 finished: too early to judge.
    expect(
      decide(progress([{ succeeded: 1, failed: 2, sent: 7 }, { queued: 1 }]), settings).kind,
    ).toBe('wait');
    expect(
      decide(progress([{ succeeded: 2, failed: 2, sent: 6 }, { queued: 1 }]), settings).kind,
    ).toBe('pause');
  });

  it('takes an error count as well as a percent', () => {
    const settings = rules({ errorThreshold: 3 });
    expect(
      decide(progress([{ succeeded: 50, timed_out: 2, sent: 48 }, { queued: 1 }]), settings).kind,
    ).toBe('wait');
    expect(
      decide(progress([{ succeeded: 50, timed_out: 3, sent: 47 }, { queued: 1 }]), settings).kind,
    ).toBe('pause');
  });

  it('applies the error threshold to stragglers of earlier batches', () => {
    const settings = rules({ successThreshold: 50, errorThreshold: 2 });
    const decision = decide(
      progress([{ succeeded: 5, failed: 2, sent: 3 }, { sent: 10 }, { queued: 10 }], {
        currentBatch: 1,
      }),
      settings,
    );
    expect(decision).toMatchObject({
      kind: 'pause',
      reason: expect.stringMatching(/^batch 1: error threshold/),
    });
  });

  it('does not pause again for errors an operator accepted by resuming', () => {
    const settings = rules({ errorThreshold: 1 });
    const seen = progress([{ succeeded: 3, failed: 1, sent: 1 }, { queued: 1 }], {
      errorAck: { 0: 1 },
    });
    expect(decide(seen, settings).kind).toBe('wait');
    const more = progress([{ succeeded: 3, failed: 2 }, { queued: 1 }], { errorAck: { 0: 1 } });
    expect(decide(more, settings).kind).toBe('pause');
  });

  it('soaks after a batch succeeded, then advances', () => {
    const settings = rules({ soakSeconds: 30 });
    const done = progress([{ succeeded: 5 }, { queued: 5 }]);
    expect(decide(done, settings)).toEqual({ kind: 'soak', until: NOW + 30_000 });
    expect(decide({ ...done, soakUntil: NOW + 1 }, settings)).toEqual({ kind: 'wait' });
    expect(decide({ ...done, soakUntil: NOW }, settings)).toEqual({ kind: 'advance' });
  });

  it('pauses for approval after a successful batch, and advances once approved', () => {
    const settings = rules({ afterBatch: 'pause' });
    const done = progress([{ succeeded: 5 }, { queued: 5 }]);
    expect(decide(done, settings)).toMatchObject({
      kind: 'pause',
      reason: expect.stringMatching(/waiting for approval/),
    });
    expect(decide({ ...done, approvedBatch: 0 }, settings)).toEqual({ kind: 'advance' });
  });

  it('advances past an approved batch that missed its success threshold', () => {
    const settings = rules({ errorThreshold: null });
    expect(
      decide(
        progress([{ succeeded: 1, failed: 4 }, { queued: 5 }], { approvedBatch: 0 }),
        settings,
      ),
    ).toEqual({ kind: 'advance' });
  });

  it('completes the last batch when no device is left to protect, whatever its errors', () => {
    const settings = rules({ errorThreshold: 1 });
    const last = { currentBatch: 1, batchCount: 2 };
    expect(
      decide(progress([{ succeeded: 5 }, { succeeded: 3, rolled_back: 2 }], last), settings),
    ).toEqual({ kind: 'complete' });
    expect(
      decide(progress([{ succeeded: 5 }, { succeeded: 3, restarting: 2 }], last), settings),
    ).toEqual({ kind: 'wait' });
    // Still queued devices in the last batch: errors stop the rollout before they get it.
    expect(
      decide(progress([{ succeeded: 5 }, { rolled_back: 1, queued: 4 }], last), settings).kind,
    ).toBe('pause');
  });
});
