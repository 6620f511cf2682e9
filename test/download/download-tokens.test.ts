import { randomBytes } from 'node:crypto';

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import {
  DAY,
  FIXTURE_ID,
  T0,
  fetchRaw,
  makeFiles,
  metric,
  startServer,
  type TestServer,
} from './download-test-server.js';

const { files, removeFiles } = makeFiles();
afterAll(removeFiles);

let s: TestServer;
beforeAll(async () => {
  s = await startServer(files);
});
afterAll(() => s.close());
beforeEach(() => {
  s.now = T0;
  s.logs.length = 0;
});
afterEach(() => {
  // A download URL is a credential: it must never reach the log.
  expect(JSON.stringify(s.logs)).not.toMatch(/\/d\/|[A-Za-z0-9_-]{51}/);
});

async function refusal(path: string): Promise<{ status: number; code: string }> {
  const r = await fetchRaw(s.port, path);
  const body = JSON.parse(r.body.toString()) as { error: { code: string; message: string } };
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(r.headers['content-type']).toMatch(/^application\/json/);
  return { status: r.status, code: body.error.code };
}

function loggedCodes(): unknown[] {
  return s.logs.filter((l) => l.msg === 'download refused').map((l) => l.code);
}

describe('download URL validity', () => {
  it('works 6 days into a 7-day URL and fails at 7 days + 1 s', async () => {
    const path = s.path({ notBefore: T0, expiresAt: T0 + 7 * DAY });

    s.now = T0 + 6 * DAY;
    expect((await fetchRaw(s.port, path)).status).toBe(200);

    s.now = T0 + 7 * DAY + 1;
    expect(await refusal(path)).toEqual({ status: 403, code: 'token_expired' });
    expect(loggedCodes()).toEqual(['token_expired']);
  });

  it('is exact at expiry: the last valid second is expiresAt - 1', async () => {
    const path = s.path({ expiresAt: T0 + 100 });

    s.now = T0 + 99;
    expect((await fetchRaw(s.port, path)).status).toBe(200);
    s.now = T0 + 100;
    expect((await refusal(path)).code).toBe('token_expired');
  });

  it('allows the documented skew before not-before, and no more', async () => {
    // skewSeconds is 60 in the test server
    const soon = s.path({ notBefore: T0 + 60, expiresAt: T0 + DAY });
    const later = s.path({ notBefore: T0 + 61, expiresAt: T0 + DAY });

    expect((await fetchRaw(s.port, soon)).status).toBe(200);
    expect(await refusal(later)).toEqual({ status: 403, code: 'token_not_yet_valid' });
  });
});

describe('refusals carry their reason in the body and the log', () => {
  it('refuses a changed signature as tampered', async () => {
    const path = s.path();
    const last = path.at(-2) === 'A' ? 'B' : 'A';
    const forged = `${path.slice(0, -2)}${last}${path.at(-1)}`;

    expect(await refusal(forged)).toEqual({ status: 403, code: 'token_tampered' });
    expect(loggedCodes()).toEqual(['token_tampered']);
  });

  it('refuses a changed grant (another package) as tampered', async () => {
    const path = s.path();
    const token = Buffer.from(path.slice(3), 'base64url');
    token.writeUInt32BE(FIXTURE_ID + 1, 2);

    const r = await refusal(`/d/${token.toString('base64url')}`);
    expect(r).toEqual({ status: 403, code: 'token_tampered' });
  });

  it('refuses a path that is no token as malformed', async () => {
    expect(await refusal('/d/not-a-token')).toEqual({ status: 403, code: 'token_malformed' });
    expect(await refusal(`${s.path()}/extra`)).toEqual({ status: 403, code: 'token_malformed' });
  });

  it('refuses a revoked device', async () => {
    s.revoked.add(7);
    try {
      expect(await refusal(s.path())).toEqual({ status: 403, code: 'device_revoked' });
      expect(s.logs.at(-1)).toMatchObject({ code: 'device_revoked', deviceRowId: 7 });
    } finally {
      s.revoked.delete(7);
    }
    expect((await fetchRaw(s.port, s.path())).status).toBe(200);
  });

  it('answers 404 for a package that does not exist', async () => {
    expect(await refusal(s.path({ packageId: 999 }))).toEqual({
      status: 404,
      code: 'package_not_found',
    });
  });

  it('answers 404 once a package is deleted and invalidated', async () => {
    const path = s.path();
    expect((await fetchRaw(s.port, path)).status).toBe(200);

    const kept = files.get(FIXTURE_ID)!;
    files.delete(FIXTURE_ID);
    s.handler.invalidatePackage(FIXTURE_ID);
    try {
      expect(await refusal(path)).toEqual({ status: 404, code: 'package_not_found' });
    } finally {
      files.set(FIXTURE_ID, kept);
      s.handler.invalidatePackage(FIXTURE_ID);
    }
  });

  it('counts refusals by code in the metrics', async () => {
    const before = await metric(s.registry, refusedSample('token_expired', 403));
    s.now = T0 + 2 * DAY;
    await refusal(s.path());
    expect(await metric(s.registry, refusedSample('token_expired', 403))).toBe((before ?? 0) + 1);
  });
});

describe('key rotation', () => {
  it('keeps URLs signed with an older key working while a new key signs new ones', async () => {
    const old = s.path({ keyId: 1 });
    s.secrets.set(2, randomBytes(32));
    const fresh = s.path({ keyId: 2 });

    expect((await fetchRaw(s.port, old)).status).toBe(200);
    expect((await fetchRaw(s.port, fresh)).status).toBe(200);

    // Once the old key is retired (after the longest URL lifetime), its URLs are refused.
    const oldSecret = s.secrets.get(1)!;
    s.secrets.delete(1);
    try {
      expect(await refusal(old)).toEqual({ status: 403, code: 'token_unknown_key' });
      expect((await fetchRaw(s.port, fresh)).status).toBe(200);
    } finally {
      s.secrets.set(1, oldSecret);
    }
  });
});

describe('revocation looked up asynchronously', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startServer(files, { isDeviceRevoked: async (id) => id === 13 });
  });
  afterAll(() => t.close());

  it('serves a device in good standing and refuses a revoked one', async () => {
    expect((await fetchRaw(t.port, t.path({ deviceRowId: 12 }))).status).toBe(200);
    const r = await fetchRaw(t.port, t.path({ deviceRowId: 13 }));
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body.toString()).error.code).toBe('device_revoked');
  });
});

function refusedSample(code: string, status: number): string {
  return `tiota_download_refusals_total{code="${code}",status="${status}"}`;
}
