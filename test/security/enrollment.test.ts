import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestDevice } from '../support/mqtt-device.js';
import { callApi, startTestServer, type TestServer } from '../support/test-server.js';
import { TEST_DATABASES } from '../support/test-databases.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Fleet enrollment tokens: a tag, a number of uses, a lifetime. Over every database. */
describe.each(TEST_DATABASES)('fleet enrollment on %s', (database) => {
  let server: TestServer;
  const enroll = (enrollmentToken: string, deviceId: string) =>
    callApi(server.httpUrl, null, 'POST', '/enroll', { enrollmentToken, deviceId });
  const makeToken = async (maxUses: number, lifetimeMs = 60_000, tags = ['batch-7']) => {
    const res = await server.api('POST', '/enrollment-tokens', {
      name: `batch ${maxUses}`,
      tags,
      maxUses,
      expiresAt: Date.now() + lifetimeMs,
    });
    expect(res.status).toBe(201);
    return res.body as { id: number; token: string };
  };

  beforeAll(async () => {
    server = await startTestServer({ database });
  });
  afterAll(() => server?.stop());

  it("gives a device its own credentials in the token's tag, which then work on the broker", async () => {
    const { token } = await makeToken(5);
    expect(token).toMatch(/^tiota_enroll_/);
    const res = await enroll(token, 'enr-1');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ deviceId: 'enr-1', username: 'enr-1' });
    expect(res.body.password).toHaveLength(32);
    expect(res.body.signingPublicKey).toContain('BEGIN PUBLIC KEY');
    expect((await server.api('GET', '/devices/enr-1')).body.tags).toEqual(['batch-7']);
    const device = await TestDevice.connect(res.body, { app: 'a', version: '1' });
    await device.close();
  });

  it('registers no more devices than the token allows, even when they enroll at once', async () => {
    const { id, token } = await makeToken(3);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => enroll(token, `enr-burst-${i}`)),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(3);
    expect(
      results
        .filter((r) => r.status === 403)
        .every((r) => r.body.error.code === 'enrollment_refused'),
    ).toBe(true);
    const listed = (await server.api('GET', '/enrollment-tokens')).body.enrollmentTokens;
    expect(listed.find((t: any) => t.id === id)).toMatchObject({
      used: 3,
      maxUses: 3,
      active: false,
    });
  });

  it('never takes over a registered device, and spends no use trying', async () => {
    const { id, token } = await makeToken(2);
    await server.api('POST', '/devices', { deviceId: 'enr-taken' });
    const res = await enroll(token, 'enr-taken');
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('device_exists');
    const listed = (await server.api('GET', '/enrollment-tokens')).body.enrollmentTokens;
    expect(listed.find((t: any) => t.id === id).used).toBe(0);
  });

  it('refuses an expired or revoked token, and an unknown one', async () => {
    const short = await makeToken(5, 1000);
    await sleep(1200);
    expect((await enroll(short.token, 'enr-late')).status).toBe(403);

    const revoked = await makeToken(5);
    const view = await server.api('DELETE', `/enrollment-tokens/${revoked.id}`);
    expect(view.body.active).toBe(false);
    expect((await enroll(revoked.token, 'enr-revoked')).status).toBe(403);
    expect((await enroll(`tiota_enroll_${'A'.repeat(43)}`, 'enr-unknown')).status).toBe(403);
    expect((await server.api('GET', '/devices/enr-late')).status).toBe(404);
  });

  it('refuses a device id the topic tree cannot hold', async () => {
    const { token } = await makeToken(5);
    for (const deviceId of ['a/b', '+', '#', 'with space']) {
      const res = await enroll(token, deviceId);
      expect(res.status, deviceId).toBe(400);
    }
  });

  it('lists tokens without their secret and lets only admins manage them', async () => {
    const { token } = await makeToken(1);
    const listed = JSON.stringify((await server.api('GET', '/enrollment-tokens')).body);
    expect(listed).not.toContain(token);
    await server.api('POST', '/accounts', {
      username: 'enr-op',
      role: 'operator',
      password: 'enr-op-password',
    });
    const login = await callApi(server.httpUrl, null, 'POST', '/login', {
      username: 'enr-op',
      password: 'enr-op-password',
    });
    const asOperator = await callApi(
      server.httpUrl,
      login.body.token,
      'POST',
      '/enrollment-tokens',
      {
        name: 'x',
        tags: ['x'],
        maxUses: 1,
        expiresAt: Date.now() + 60_000,
      },
    );
    expect(asOperator.status).toBe(403);
  });

  it('refuses token lifetimes in the past or beyond a year, and bad tags', async () => {
    const base = { name: 'x', tags: ['ok'], maxUses: 1 };
    const year = 366 * 86_400_000;
    for (const body of [
      { ...base, expiresAt: Date.now() - 1 },
      { ...base, expiresAt: Date.now() + year },
      { ...base, tags: ['bad/tag'], expiresAt: Date.now() + 60_000 },
      { ...base, tags: [], expiresAt: Date.now() + 60_000 },
      { ...base, maxUses: 0, expiresAt: Date.now() + 60_000 },
    ]) {
      const res = await server.api('POST', '/enrollment-tokens', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
  });

  it('slows down a client that keeps presenting bad tokens (429)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++)
      statuses.push((await enroll(`guess-${i}`, `enr-guess-${i}`)).status);
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s === 403).length).toBeLessThanOrEqual(20);
  });
});
