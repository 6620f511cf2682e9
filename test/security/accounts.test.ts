import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApi, startTestServer, type TestServer } from '../support/test-server.js';
import { TEST_DATABASES } from '../support/test-databases.js';
import { sessionFor } from './security-helpers.js';

describe.each(TEST_DATABASES)('accounts on %s', (database) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ database });
  });
  afterAll(() => server?.stop());

  it('creates an account with a generated password, shown once', async () => {
    const made = await server.api('POST', '/accounts', { username: 'ana', role: 'viewer' });
    expect(made.status).toBe(201);
    expect(made.body.account).toMatchObject({ username: 'ana', role: 'viewer', disabled: false });
    expect(made.body.password).toMatch(/^[A-Za-z0-9_-]{20}$/);
    const listed = await server.api('GET', '/accounts');
    expect(listed.body.accounts.map((a: any) => a.username)).toEqual(['admin', 'ana']);
    expect(JSON.stringify(listed.body)).not.toContain(made.body.password);
    expect(JSON.stringify(listed.body)).not.toContain('scrypt');
    const login = await callApi(server.httpUrl, null, 'POST', '/login', {
      username: 'ana',
      password: made.body.password,
    });
    expect(login.status).toBe(201);
  });

  it('refuses duplicate, reserved and malformed usernames and weak passwords', async () => {
    const cases: [unknown, number, string][] = [
      [{ username: 'ana', role: 'viewer' }, 409, 'account_exists'],
      [{ username: 'system', role: 'viewer' }, 400, 'validation_failed'],
      [{ username: 'Bad Name', role: 'viewer' }, 400, 'validation_failed'],
      [{ username: 'enrollment-token:1', role: 'viewer' }, 400, 'validation_failed'],
      [{ username: 'bob', role: 'root' }, 400, 'validation_failed'],
      [{ username: 'bob', role: 'viewer', password: 'short' }, 400, 'validation_failed'],
    ];
    for (const [body, status, code] of cases) {
      const res = await server.api('POST', '/accounts', body);
      expect([res.status, res.body.error?.code], JSON.stringify(body)).toEqual([status, code]);
    }
  });

  it("applies a role change to the account's existing tokens at once", async () => {
    const { token } = await sessionFor(server, 'cleo', 'viewer');
    expect(
      (await callApi(server.httpUrl, token, 'POST', '/devices', { deviceId: 'cleo-1' })).status,
    ).toBe(403);
    const changed = await server.api('PATCH', '/accounts/cleo', { role: 'operator' });
    expect(changed.body.role).toBe('operator');
    expect(
      (await callApi(server.httpUrl, token, 'POST', '/devices', { deviceId: 'cleo-1' })).status,
    ).toBe(201);
  });

  it('never lets the last enabled admin be demoted or disabled', async () => {
    for (const change of [{ role: 'operator' }, { disabled: true }]) {
      const res = await server.api('PATCH', '/accounts/admin', change);
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('last_admin');
    }
    await sessionFor(server, 'dora', 'admin');
    expect((await server.api('PATCH', '/accounts/dora', { role: 'operator' })).status).toBe(200);
    expect((await server.api('PATCH', '/accounts/admin', { role: 'operator' })).status).toBe(409);
  });

  it('ends the console sessions of an account whose password an admin resets', async () => {
    const { token, password } = await sessionFor(server, 'emil', 'operator');
    const reset = await server.api('PATCH', '/accounts/emil', { password: 'a-new-password-1' });
    expect(reset.status).toBe(200);
    expect((await callApi(server.httpUrl, token, 'GET', '/session')).status).toBe(401);
    expect(
      (await callApi(server.httpUrl, null, 'POST', '/login', { username: 'emil', password }))
        .status,
    ).toBe(401);
  });

  it('refuses an empty change and unknown fields', async () => {
    expect((await server.api('PATCH', '/accounts/emil', {})).status).toBe(400);
    expect(
      (await server.api('PATCH', '/accounts/emil', { role: 'admin', superuser: true })).status,
    ).toBe(400);
    expect((await server.api('PATCH', '/accounts/nobody', { role: 'admin' })).status).toBe(404);
  });
});
