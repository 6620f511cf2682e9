import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  actorForToken,
  createApiToken,
  SESSION_IDLE_MS,
  SESSION_TTL_MS,
} from '../../src/server/auth/api-tokens.js';
import { callApi, startTestServer, type TestServer } from '../support/test-server.js';
import { openTestDatabase, TEST_DATABASES, type TestDatabase } from '../support/test-databases.js';
import { sessionFor } from './security-helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Issue 8, done when: an expired or revoked token fails. Over every supported database. */
describe.each(TEST_DATABASES)('API tokens and sessions on %s', (database) => {
  let server: TestServer;
  const as = (token: string | null) => (method: string, route: string, body?: unknown) =>
    callApi(server.httpUrl, token, method, route, body);

  beforeAll(async () => {
    server = await startTestServer({ database });
  });
  afterAll(() => server?.stop());

  it('shows a new token once and never lists its secret', async () => {
    const made = await server.api('POST', '/tokens', { name: 'ci' });
    expect(made.status).toBe(201);
    expect(made.body.token).toMatch(/^tiota_[A-Za-z0-9_-]{43}$/);
    const listed = JSON.stringify((await server.api('GET', '/tokens')).body);
    expect(listed).toContain('"ci"');
    expect(listed).not.toContain(made.body.token);
    expect(listed).not.toMatch(/token_hash|[0-9a-f]{64}/);
    // Without an expiry a token lasts 90 days, not forever.
    expect(made.body.expiresAt - Date.now()).toBeGreaterThan(89 * 86_400_000);
  });

  it('refuses a token once it has expired', async () => {
    const made = await server.api('POST', '/tokens', {
      name: 'short',
      expiresAt: Date.now() + 1200,
    });
    expect((await as(made.body.token)('GET', '/devices')).status).toBe(200);
    await sleep(1400);
    expect((await as(made.body.token)('GET', '/devices')).status).toBe(401);
    const listed = (await server.api('GET', '/tokens')).body.tokens.find(
      (t: any) => t.id === made.body.id,
    );
    expect(listed.active).toBe(false);
  });

  it('makes a token that never expires when asked (expiresAt null)', async () => {
    const made = await server.api('POST', '/tokens', { name: 'service', expiresAt: null });
    expect(made.status).toBe(201);
    expect(made.body.expiresAt).toBeNull();
    expect((await as(made.body.token)('GET', '/devices')).status).toBe(200);
  });

  it('refuses an expiry in the past', async () => {
    const res = await server.api('POST', '/tokens', { name: 'past', expiresAt: Date.now() - 1000 });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
  });

  it('refuses a token once it is revoked, at once', async () => {
    const made = await server.api('POST', '/tokens', { name: 'to-revoke' });
    expect((await as(made.body.token)('GET', '/packages')).status).toBe(200);
    expect((await server.api('DELETE', `/tokens/${made.body.id}`)).status).toBe(204);
    expect((await as(made.body.token)('GET', '/packages')).status).toBe(401);
    // Revoking again changes nothing and is no error.
    expect((await server.api('DELETE', `/tokens/${made.body.id}`)).status).toBe(204);
  });

  it('limits a token to the role it was made with', async () => {
    const made = await server.api('POST', '/tokens', { name: 'dash', role: 'viewer' });
    expect((await as(made.body.token)('GET', '/devices')).status).toBe(200);
    const write = await as(made.body.token)('POST', '/devices', { deviceId: 'nope-1' });
    expect(write.status).toBe(403);
    expect((await as(made.body.token)('GET', '/session')).body.role).toBe('viewer');
  });

  it('keeps each account to its own tokens; admins see and revoke all', async () => {
    const { token } = await sessionFor(server, `tok-op-${database}`, 'operator');
    const op = as(token);
    expect((await op('POST', '/tokens', { name: 'x', role: 'admin' })).status).toBe(400);
    expect((await op('POST', '/tokens', { name: 'x', account: 'admin' })).status).toBe(403);
    expect((await op('GET', '/tokens?all=true')).status).toBe(403);
    const adminToken = (await server.api('GET', '/tokens')).body.tokens[0];
    expect((await op('DELETE', `/tokens/${adminToken.id}`)).status).toBe(404);
    const own = await op('POST', '/tokens', { name: 'mine' });
    expect(own.status).toBe(201);
    expect(
      (await op('GET', '/tokens')).body.tokens.every(
        (t: any) => t.account === `tok-op-${database}`,
      ),
    ).toBe(true);
    const all = (await server.api('GET', '/tokens?all=true')).body.tokens;
    expect(all.some((t: any) => t.id === own.body.id)).toBe(true);
    expect((await server.api('DELETE', `/tokens/${own.body.id}`)).status).toBe(204);
    expect((await as(own.body.token)('GET', '/devices')).status).toBe(401);
  });

  it('ends a console session at logout; logout does not revoke API tokens', async () => {
    const { token } = await sessionFor(server, `tok-sess-${database}`, 'viewer');
    const session = await as(token)('GET', '/session');
    expect(session.body).toMatchObject({ tokenKind: 'session', role: 'viewer' });
    expect(session.body.expiresAt - Date.now()).toBeLessThanOrEqual(SESSION_TTL_MS);
    expect((await as(token)('POST', '/logout')).status).toBe(204);
    expect((await as(token)('GET', '/session')).status).toBe(401);

    const apiLogout = await server.api('POST', '/logout');
    expect(apiLogout.status).toBe(409);
    expect((await server.api('GET', '/session')).status).toBe(200);
  });

  it('refuses every token of a disabled account, also after it is enabled again', async () => {
    const { token } = await sessionFor(server, `tok-dis-${database}`, 'operator');
    const api = await as(token)('POST', '/tokens', { name: 'script' });
    const change = await server.api('PATCH', `/accounts/tok-dis-${database}`, { disabled: true });
    expect(change.body.disabled).toBe(true);
    expect((await as(token)('GET', '/devices')).status).toBe(401);
    expect((await as(api.body.token)('GET', '/devices')).status).toBe(401);
    await server.api('PATCH', `/accounts/tok-dis-${database}`, { disabled: false });
    expect((await as(api.body.token)('GET', '/devices')).status).toBe(401);
  });
});

/** Session idle time and expiry, judged at chosen instants (actorForToken takes `now`). */
describe.each(TEST_DATABASES)('session lifetime on %s', (kind) => {
  let database: TestDatabase;
  let accountId: number;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    const row = await database.db
      .insertInto('accounts')
      .values({
        username: 'clock',
        password_hash: 'x',
        role: 'operator',
        created_at: 0,
        disabled_at: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    accountId = Number(row.id);
  });
  afterAll(() => database?.close());

  it('ends a session left idle longer than the idle timeout, however long its lifetime', async () => {
    const now = Date.now();
    const made = await createApiToken(database.db, {
      accountId,
      name: 's',
      kind: 'session',
      expiresAt: now + SESSION_TTL_MS,
    });
    expect(
      await actorForToken(database.db, made.token, now + SESSION_IDLE_MS - 1000),
    ).not.toBeNull();
    // That use restarted the idle clock.
    expect(
      await actorForToken(database.db, made.token, now + 2 * SESSION_IDLE_MS - 2000),
    ).not.toBeNull();
    expect(await actorForToken(database.db, made.token, now + 4 * SESSION_IDLE_MS)).toBeNull();
  });

  it('keeps an idle API token until its expiry, then refuses it', async () => {
    const now = Date.now();
    const made = await createApiToken(database.db, {
      accountId,
      name: 'a',
      expiresAt: now + 86_400_000,
    });
    expect(await actorForToken(database.db, made.token, now + 3600_000)).not.toBeNull();
    expect(await actorForToken(database.db, made.token, now + 86_400_000)).toBeNull();
  });
});
