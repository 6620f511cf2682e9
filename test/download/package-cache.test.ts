import { afterAll, describe, expect, it } from 'vitest';

import { PackageCache } from '../../src/server/download/package-cache.js';
import {
  FIXTURE_ID,
  MIB_ID,
  fetchRaw,
  makeFiles,
  startServer,
  waitFor,
} from './download-test-server.js';

const { files, removeFiles } = makeFiles();
afterAll(removeFiles);

const fixture = () => files.get(FIXTURE_ID)!;

describe('PackageCache', () => {
  it('keeps small packages in memory within the budget, the coldest going first', async () => {
    const cache = new PackageCache({
      resolve: async (id) => files.get(id),
      memoryBytes: fixture().size + 1000,
      memoryFileBytes: 2 * 1024 * 1024,
    });
    const small = (await cache.load(FIXTURE_ID))!;
    expect(small.body?.length).toBe(fixture().size);

    const big = (await cache.load(MIB_ID))!;
    expect(big.body).toBeUndefined(); // larger than the whole budget: streamed
    expect(cache.memoryUsed).toBe(fixture().size);
  });

  it('shares one lookup between concurrent requests and forgets on invalidate', async () => {
    let lookups = 0;
    const cache = new PackageCache({
      resolve: async (id) => (lookups++, files.get(id)),
    });
    const [a, b] = await Promise.all([cache.load(FIXTURE_ID), cache.load(FIXTURE_ID)]);
    expect(a).toBe(b);
    expect(lookups).toBe(1);
    expect(cache.get(FIXTURE_ID)).toBe(a);

    cache.invalidate(FIXTURE_ID);
    expect(cache.get(FIXTURE_ID)).toBeUndefined();
    expect(cache.memoryUsed).toBe(0);
  });

  it('refuses a stored file whose bytes are not the recorded ones', async () => {
    const cache = new PackageCache({
      resolve: async () => ({ ...fixture(), sha256: '0'.repeat(64) }),
    });
    await expect(cache.load(FIXTURE_ID)).rejects.toThrow(/does not hash/);
    const short = new PackageCache({ resolve: async () => ({ ...fixture(), size: 10 }) });
    await expect(short.load(FIXTURE_ID)).rejects.toThrow(/holds 20384 bytes, expected 10/);
  });
});

describe('a corrupt stored package', () => {
  it('answers 500 without internals and logs the cause, never sending wrong bytes', async () => {
    const s = await startServer(files, {
      resolvePackage: async () => ({ ...fixture(), sha256: 'f'.repeat(64) }),
    });
    try {
      const r = await fetchRaw(s.port, s.path());
      expect(r.status).toBe(500);
      expect(JSON.parse(r.body.toString())).toEqual({
        error: { code: 'internal', message: 'internal error' },
      });
      await waitFor(() => s.logs.some((l) => l.level === 'error'));
      expect(String(s.logs.find((l) => l.level === 'error')!.err)).toMatch(/does not hash/);
    } finally {
      await s.close();
    }
  });
});
