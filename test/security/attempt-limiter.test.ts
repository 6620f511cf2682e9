import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AttemptLimiter } from '../../src/server/auth/attempt-limiter.js';

describe('attempt limiter', () => {
  const minute = 60_000;

  it('blocks after maxFailures in the window and frees the key as failures age out', () => {
    const limiter = new AttemptLimiter({ maxFailures: 3, windowMs: 15 * minute });
    expect(limiter.fail('k', 0)).toBe(false);
    expect(limiter.fail('k', minute)).toBe(false);
    expect(limiter.retryAfter('k', minute)).toBe(0);
    expect(limiter.fail('k', 2 * minute)).toBe(true);
    // Blocked until the first failure is 15 minutes old.
    expect(limiter.retryAfter('k', 2 * minute)).toBe(13 * 60);
    expect(limiter.retryAfter('k', 15 * minute - 1000)).toBe(1);
    expect(limiter.retryAfter('k', 15 * minute)).toBe(0);
    expect(limiter.retryAfter('other', 2 * minute)).toBe(0);
  });

  it('forgets a key after a success, and takes back one early-counted failure', () => {
    const limiter = new AttemptLimiter({ maxFailures: 2, windowMs: minute });
    limiter.fail('k', 0);
    limiter.reset('k');
    expect(limiter.fail('k', 1)).toBe(false);
    limiter.fail('k', 2);
    limiter.forgive('k');
    expect(limiter.retryAfter('k', 3)).toBe(0);
  });

  it('remembers at most maxKeys keys, forgetting the least recently failed', () => {
    const limiter = new AttemptLimiter({ maxFailures: 1, windowMs: minute, maxKeys: 100 });
    for (let i = 0; i < 1000; i++) limiter.fail(`user-${i}`, 0);
    expect(limiter.retryAfter('user-999', 0)).toBeGreaterThan(0);
    expect(limiter.retryAfter('user-0', 0)).toBe(0);
  });

  it('never allows more than maxFailures failures inside any window', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.integer({ min: 0, max: 5 * minute }), { maxLength: 60 }),
        (max, gaps) => {
          const limiter = new AttemptLimiter({ maxFailures: max, windowMs: minute });
          const accepted: number[] = [];
          let now = 0;
          for (const gap of gaps) {
            now += gap;
            if (limiter.retryAfter('k', now) > 0) continue;
            limiter.fail('k', now);
            accepted.push(now);
          }
          for (const t of accepted) {
            expect(accepted.filter((u) => u >= t && u < t + minute).length).toBeLessThanOrEqual(
              max,
            );
          }
        },
      ),
    );
  });
});
