import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_TAPK } from '../support/fixture.js';
import { callApi, startTestServer, type TestServer } from '../support/test-server.js';
import { openTestDatabase, TEST_DATABASES, type TestDatabase } from '../support/test-databases.js';
import { apiOperations, auditEntries, isMutation, label } from './security-helpers.js';

/** What one mutation scenario did: the audit action and target it must have left. */
interface Expected {
  readonly action: string;
  readonly target?: string;
  readonly actor?: string;
}

type Scenario = (server: TestServer, state: Record<string, any>) => Promise<Expected>;

async function upload(server: TestServer, version: string): Promise<number> {
  const response = await fetch(
    `${server.httpUrl}/api/v1/packages?version=${version}&fileName=app.tapk`,
    {
      method: 'POST',
      headers: {
        authorization: `Bearer ${server.token}`,
        'content-type': 'application/octet-stream',
      },
      body: await readFile(FIXTURE_TAPK),
    },
  );
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: number }).id;
}

async function ok<T = any>(call: Promise<{ status: number; body: T }>): Promise<T> {
  const res = await call;
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
  return res.body;
}

/**
 * One scenario per mutating route, in an order where each can build on the ones before. A
 * mutating route without a scenario fails the suite: every new mutation must be audited.
 */
const SCENARIOS: [string, Scenario][] = [
  [
    'POST /api/v1/packages',
    async (s, st) => {
      st.packageId = await upload(s, '9.0.0');
      return { action: 'package.upload', target: `package:${st.packageId}` };
    },
  ],
  [
    'DELETE /api/v1/packages/{id}',
    async (s) => {
      const id = await upload(s, '9.0.1');
      await ok(s.api('DELETE', `/packages/${id}`));
      return { action: 'package.delete', target: `package:${id}` };
    },
  ],
  [
    'POST /api/v1/devices',
    async (s) => {
      await ok(s.api('POST', '/devices', { deviceId: 'audit-dev-1', tags: ['audit'] }));
      return { action: 'device.register', target: 'device:audit-dev-1' };
    },
  ],
  [
    'POST /api/v1/rollouts',
    async (s, st) => {
      const body = await ok(
        s.api('POST', '/rollouts', {
          packageId: st.packageId,
          target: { devices: ['audit-dev-1'] },
        }),
      );
      st.rolloutId = body.id;
      return { action: 'rollout.create', target: `rollout:${body.id}` };
    },
  ],
  [
    'POST /api/v1/rollouts/{id}/pause',
    async (s, st) => {
      await ok(s.api('POST', `/rollouts/${st.rolloutId}/pause`));
      return { action: 'rollout.pause', target: `rollout:${st.rolloutId}` };
    },
  ],
  [
    'POST /api/v1/rollouts/{id}/resume',
    async (s, st) => {
      await ok(s.api('POST', `/rollouts/${st.rolloutId}/resume`));
      return { action: 'rollout.resume', target: `rollout:${st.rolloutId}` };
    },
  ],
  [
    'POST /api/v1/rollouts/{id}/cancel',
    async (s, st) => {
      await ok(s.api('POST', `/rollouts/${st.rolloutId}/cancel`));
      return { action: 'rollout.cancel', target: `rollout:${st.rolloutId}` };
    },
  ],
  [
    'POST /api/v1/devices/{id}/credentials',
    async (s) => {
      await ok(s.api('POST', '/devices/audit-dev-1/credentials'));
      return { action: 'device.rotate_secret', target: 'device:audit-dev-1' };
    },
  ],
  [
    'POST /api/v1/devices/{id}/revoke',
    async (s) => {
      await ok(s.api('POST', '/devices/audit-dev-1/revoke'));
      return { action: 'device.revoke', target: 'device:audit-dev-1' };
    },
  ],
  [
    'POST /api/v1/accounts',
    async (s) => {
      await ok(
        s.api('POST', '/accounts', {
          username: 'audit-op',
          role: 'operator',
          password: 'audit-op-pass-1',
        }),
      );
      return { action: 'account.create', target: 'account:audit-op' };
    },
  ],
  [
    'PATCH /api/v1/accounts/{username}',
    async (s) => {
      await ok(s.api('PATCH', '/accounts/audit-op', { role: 'viewer' }));
      return { action: 'account.update', target: 'account:audit-op' };
    },
  ],
  [
    'POST /api/v1/login',
    async (s, st) => {
      const body = await ok(
        callApi(s.httpUrl, null, 'POST', '/login', {
          username: 'audit-op',
          password: 'audit-op-pass-1',
        }),
      );
      st.session = body.token;
      return { action: 'account.login', target: 'account:audit-op', actor: 'audit-op' };
    },
  ],
  [
    'POST /api/v1/session/password',
    async (s, st) => {
      await ok(
        callApi(s.httpUrl, st.session, 'POST', '/session/password', {
          currentPassword: 'audit-op-pass-1',
          newPassword: 'audit-op-pass-2',
        }),
      );
      return { action: 'account.password', target: 'account:audit-op', actor: 'audit-op' };
    },
  ],
  [
    'POST /api/v1/logout',
    async (s, st) => {
      await ok(callApi(s.httpUrl, st.session, 'POST', '/logout'));
      return { action: 'account.logout', target: 'account:audit-op', actor: 'audit-op' };
    },
  ],
  [
    'POST /api/v1/tokens',
    async (s, st) => {
      st.token = await ok(s.api('POST', '/tokens', { name: 'audit' }));
      return { action: 'token.create', target: `token:${st.token.id}` };
    },
  ],
  [
    'DELETE /api/v1/tokens/{id}',
    async (s, st) => {
      await ok(s.api('DELETE', `/tokens/${st.token.id}`));
      return { action: 'token.revoke', target: `token:${st.token.id}` };
    },
  ],
  [
    'POST /api/v1/enrollment-tokens',
    async (s, st) => {
      const body = { name: 'audit', tags: ['audit'], maxUses: 2, expiresAt: Date.now() + 60_000 };
      st.enrollment = await ok(s.api('POST', '/enrollment-tokens', body));
      return { action: 'enrollment.create', target: `enrollment:${st.enrollment.id}` };
    },
  ],
  [
    'POST /api/v1/enroll',
    async (s, st) => {
      const body = { enrollmentToken: st.enrollment.token, deviceId: 'audit-enrolled' };
      await ok(callApi(s.httpUrl, null, 'POST', '/enroll', body));
      const actor = `enrollment-token:${st.enrollment.id}`;
      return { action: 'device.register', target: 'device:audit-enrolled', actor };
    },
  ],
  [
    'DELETE /api/v1/enrollment-tokens/{id}',
    async (s, st) => {
      await ok(s.api('DELETE', `/enrollment-tokens/${st.enrollment.id}`));
      return { action: 'enrollment.revoke', target: `enrollment:${st.enrollment.id}` };
    },
  ],
  [
    'POST /api/v1/keys/url/rotate',
    async (s) => {
      const body = await ok(s.api('POST', '/keys/url/rotate', {}));
      return { action: 'key.rotate_url', target: `key:url-hmac:${body.keyId}` };
    },
  ],
  [
    'POST /api/v1/keys/manifest/rotate',
    async (s) => {
      const body = await ok(s.api('POST', '/keys/manifest/rotate', {}));
      return { action: 'key.rotate_manifest', target: `key:${body.keyId}` };
    },
  ],
  [
    'POST /api/v1/keys/manifest/resign',
    async (s) => {
      const body = await ok(s.api('POST', '/keys/manifest/resign'));
      return { action: 'key.resign_packages', target: `key:${body.keyId}` };
    },
  ],
];

/** Issue 8, done when: every mutation appears in the audit log (who, what, when, from where). */
describe.each(TEST_DATABASES)('audit coverage on %s', (database) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ database });
  });
  afterAll(() => server?.stop());

  it('has an audit scenario for every mutating route the server serves', async () => {
    const mutations = (await apiOperations(server)).filter(isMutation).map(label);
    const covered = SCENARIOS.map(([route]) => route);
    expect(mutations.filter((route) => !covered.includes(route))).toEqual([]);
  });

  it('records who, what, when and from where for every mutation', async () => {
    const state: Record<string, any> = {};
    for (const [route, scenario] of SCENARIOS) {
      const before = Date.now();
      const expected = await scenario(server, state);
      const entries = await auditEntries(server, 20);
      const entry = entries.find(
        (e) => e.action === expected.action && (!expected.target || e.target === expected.target),
      );
      expect(entry, `${route}: no ${expected.action} entry`).toBeDefined();
      expect(entry.actor, route).toBe(expected.actor ?? 'admin');
      expect(entry.ip, route).toBe('127.0.0.1');
      expect(entry.at, route).toBeGreaterThanOrEqual(before - 5);
    }
  });

  it('records failed logins too', async () => {
    await callApi(server.httpUrl, null, 'POST', '/login', {
      username: 'audit-op',
      password: 'wrong-wrong',
    });
    const entries = await auditEntries(server, 5);
    expect(entries[0]).toMatchObject({
      action: 'account.login_failed',
      target: 'account:audit-op',
      ip: '127.0.0.1',
    });
  });

  it('shows the log to viewers and filters it by actor and action', async () => {
    const byAction = await server.api('GET', '/audit?action=account.create');
    expect(byAction.body.entries.map((e: any) => e.target)).toContain('account:audit-op');
    const byActor = await server.api('GET', '/audit?actor=audit-op');
    expect(byActor.body.entries.every((e: any) => e.actor === 'audit-op')).toBe(true);
  });
});

describe.each(TEST_DATABASES)('audit log storage on %s', (kind) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
  });
  afterAll(() => database?.close());

  it('refuses to change or delete an entry (append-only, enforced by the database)', async () => {
    const row = await database.db
      .insertInto('audit_log')
      .values({ at: 1, actor: 'a', action: 'x', target: 't', detail: '{}', ip: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    const update = database.db
      .updateTable('audit_log')
      .set({ actor: 'b' })
      .where('id', '=', row.id)
      .execute();
    await expect(update).rejects.toThrow(/append-only/);
    const remove = database.db.deleteFrom('audit_log').where('id', '=', row.id).execute();
    await expect(remove).rejects.toThrow(/append-only/);
  });
});
