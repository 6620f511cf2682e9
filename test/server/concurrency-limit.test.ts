import { describe, expect, it } from 'vitest';
import { ConcurrencyLimit } from '../../src/server/mqtt/concurrency-limit.js';

describe('ConcurrencyLimit', () => {
  it('never runs more than its limit at once and runs every task in arrival order', async () => {
    const limit = new ConcurrencyLimit(3);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const tasks = Array.from({ length: 20 }, (_, i) =>
      limit.run(async () => {
        started.push(i);
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        return i;
      }),
    );
    expect(await Promise.all(tasks)).toEqual([...Array(20).keys()]);
    expect(peak).toBe(3);
    expect(started).toEqual([...Array(20).keys()]);
  });

  it('frees the slot of a task that throws', async () => {
    const limit = new ConcurrencyLimit(1);
    await expect(limit.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await limit.run(async () => 'next')).toBe('next');
  });
});
