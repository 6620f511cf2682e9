import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOGIN_FAILURES_PER_USER } from '../../src/server/auth/login-service.js';
import { callApi, startTestServer, type TestServer } from '../support/test-server.js';
import { auditEntries, rawCall } from './security-helpers.js';

const login = (server: TestServer, username: string, password: string) =>
  rawCall(server, 'POST', '/login', {
    body: JSON.stringify({ username, password }),
    contentType: 'application/json',
  });

describe('login', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
    for (const username of ['lia', 'max']) {
      await server.api('POST', '/accounts', {
        username,
        role: 'operator',
        password: `${username}-password-1`,
      });
    }
  });
  afterAll(() => server?.stop());

  it('answers a wrong password and an unknown user alike, with 401 invalid_credentials', async () => {
    const wrong = await login(server, 'max', 'not-the-password');
    const unknown = await login(server, 'nobody-here', 'not-the-password');
    for (const res of [wrong, unknown]) {
      expect(res.status).toBe(401);
      expect(res.body.error).toMatchObject({
        code: 'invalid_credentials',
        message: 'wrong username or password',
      });
    }
    expect((await login(server, 'max', 'max-password-1')).status).toBe(201);
  });

  it(`blocks a username from a client after ${LOGIN_FAILURES_PER_USER.maxFailures} failures, with 429 and Retry-After`, async () => {
    for (let i = 0; i < LOGIN_FAILURES_PER_USER.maxFailures; i++) {
      expect((await login(server, 'lia', `guess-${i}`)).status).toBe(401);
    }
    const blocked = await login(server, 'lia', 'guess-x');
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('too_many_requests');
    const retryAfter = Number(blocked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(800);
    expect(retryAfter).toBeLessThanOrEqual(900);
    // Even the right password waits: the block is not an oracle for guesses.
    expect((await login(server, 'lia', 'lia-password-1')).status).toBe(429);
    // Another account from the same client is not blocked by it.
    expect((await login(server, 'max', 'max-password-1')).status).toBe(201);
  });

  it('audits every failed login and the block, with the client address', async () => {
    const entries = await auditEntries(server, 100);
    const failed = entries.filter(
      (e) => e.action === 'account.login_failed' && e.target === 'account:lia',
    );
    expect(failed).toHaveLength(LOGIN_FAILURES_PER_USER.maxFailures);
    expect(failed[0]).toMatchObject({ actor: 'anonymous', ip: '127.0.0.1' });
    const blocks = entries.filter(
      (e) => e.action === 'account.login_blocked' && e.target === 'account:lia',
    );
    expect(blocks).toHaveLength(1);
    expect(entries.some((e) => e.action === 'account.login' && e.actor === 'max')).toBe(true);
    // A name no account has is kept out of the log: it may be a password typed in the wrong box.
    expect(
      entries.some((e) => e.action === 'account.login_failed' && e.target === 'account:?'),
    ).toBe(true);
    expect(JSON.stringify(entries)).not.toContain('nobody-here');
  });

  it('refuses login bodies that are not JSON objects of the expected shape', async () => {
    const cases: [string | undefined, string, number, string][] = [
      ['application/json', '{"username":"max"}', 400, 'validation_failed'],
      [
        'application/json',
        '{"username":"max","password":"x","admin":true}',
        400,
        'validation_failed',
      ],
      ['application/json', '{"username":{},"password":"x"}', 400, 'validation_failed'],
      ['application/json', '["max","x"]', 400, 'validation_failed'],
      ['application/json', '{"username":', 400, 'bad_request'],
      ['text/plain', 'username=max&password=x', 400, 'validation_failed'],
      [
        'application/x-www-form-urlencoded',
        'username=max&password=x',
        415,
        'unsupported_media_type',
      ],
      [
        'application/json',
        JSON.stringify({ username: 'max', password: 'p'.repeat(300) }),
        400,
        'validation_failed',
      ],
      [
        'application/json',
        JSON.stringify({ username: 'max', password: 'p'.repeat(20_000) }),
        413,
        'payload_too_large',
      ],
    ];
    for (const [contentType, body, status, code] of cases) {
      const res = await rawCall(server, 'POST', '/login', { body, contentType });
      expect([res.status, res.body?.error?.code], body.slice(0, 50)).toEqual([status, code]);
    }
  });

  it('lets an operator change their own password, ending their other sessions', async () => {
    const first = (await login(server, 'max', 'max-password-1')).body.token as string;
    const second = (await login(server, 'max', 'max-password-1')).body.token as string;
    const wrong = await callApi(server.httpUrl, first, 'POST', '/session/password', {
      currentPassword: 'nope-nope-nope',
      newPassword: 'max-password-2',
    });
    expect(wrong.status).toBe(403);
    expect(wrong.body.error.code).toBe('wrong_password');
    const short = await callApi(server.httpUrl, first, 'POST', '/session/password', {
      currentPassword: 'max-password-1',
      newPassword: 'short',
    });
    expect(short.status).toBe(400);
    const changed = await callApi(server.httpUrl, first, 'POST', '/session/password', {
      currentPassword: 'max-password-1',
      newPassword: 'max-password-2',
    });
    expect(changed.status).toBe(204);
    expect((await callApi(server.httpUrl, first, 'GET', '/session')).status).toBe(200);
    expect((await callApi(server.httpUrl, second, 'GET', '/session')).status).toBe(401);
    expect((await login(server, 'max', 'max-password-1')).status).toBe(401);
    expect((await login(server, 'max', 'max-password-2')).status).toBe(201);
  });
});
