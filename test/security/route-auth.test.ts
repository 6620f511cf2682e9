import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/test-server.js';
import {
  apiOperations,
  concretePath,
  isMutation,
  label,
  rawCall,
  sessionFor,
  type ApiOperation,
} from './security-helpers.js';

/** The only routes a caller without a bearer token may reach. */
const PUBLIC = ['POST /api/v1/login', 'POST /api/v1/enroll'];

/** Mutations every role may make, because they touch only the caller's own credentials. */
const SELF_SERVICE = [
  'POST /api/v1/logout',
  'POST /api/v1/session/password',
  'POST /api/v1/tokens',
  'DELETE /api/v1/tokens/{id}',
];

/** Route families for admins only: accounts, enrollment tokens, signing keys. */
const ADMIN_ONLY = /^\/api\/v1\/(accounts|enrollment-tokens|keys)(\/|$)/;

/**
 * Issue 8, done when: no token → 401 on every management route, viewer → 403 on every
 * mutation. Routes come from the server's OpenAPI document, so new routes are covered.
 */
describe('route authorization', () => {
  let server: TestServer;
  let operations: ApiOperation[];
  let viewer: string;
  let operator: string;

  beforeAll(async () => {
    server = await startTestServer();
    operations = await apiOperations(server);
    viewer = (await sessionFor(server, 'route-viewer', 'viewer')).token;
    operator = (await sessionFor(server, 'route-operator', 'operator')).token;
  });
  afterAll(() => server?.stop());

  it('finds the whole API in the OpenAPI document', () => {
    const labels = operations.map(label);
    expect(labels).toEqual(expect.arrayContaining([...PUBLIC, ...SELF_SERVICE]));
    expect(labels).toEqual(
      expect.arrayContaining([
        'POST /api/v1/packages',
        'POST /api/v1/devices',
        'GET /api/v1/audit',
      ]),
    );
    expect(operations.length).toBeGreaterThan(25);
  });

  it('declares exactly the public routes as needing no token', () => {
    expect(
      operations
        .filter((op) => op.public)
        .map(label)
        .sort(),
    ).toEqual([...PUBLIC].sort());
  });

  it('answers 401 with WWW-Authenticate on every other route when no token is sent', async () => {
    const failures: string[] = [];
    for (const op of operations.filter((o) => !o.public)) {
      const res = await rawCall(server, op.method, concretePath(op));
      const ok =
        res.status === 401 &&
        res.body?.error?.code === 'unauthorized' &&
        /^Bearer /.test(res.headers.get('www-authenticate') ?? '');
      if (!ok) failures.push(`${label(op)} → ${res.status}`);
    }
    expect(failures).toEqual([]);
  });

  it('answers 401 to malformed, unknown and oversized bearer tokens', async () => {
    const tokens = ['', 'Bearer', 'Basic YWRtaW46YWRtaW4=', `Bearer ${'x'.repeat(4000)}`];
    tokens.push(
      `Bearer tiota_${'A'.repeat(43)}`,
      `Bearer ${server.token}x`,
      `Bearer ${server.token} extra`,
    );
    for (const authorization of tokens) {
      const response = await fetch(`${server.httpUrl}/api/v1/devices`, {
        headers: { authorization },
      });
      expect(response.status, authorization.slice(0, 40)).toBe(401);
    }
  });

  it('answers 401, not 404, for unknown paths under /api (nothing is learned without a token)', async () => {
    expect((await rawCall(server, 'GET', '/no-such-thing')).status).toBe(401);
    expect((await rawCall(server, 'GET', '/no-such-thing', { token: server.token })).status).toBe(
      404,
    );
  });

  it('answers 403 to a viewer on every mutation but its own credentials', async () => {
    const failures: string[] = [];
    for (const op of operations.filter((o) => isMutation(o) && !o.public)) {
      if (SELF_SERVICE.includes(label(op))) continue;
      const res = await rawCall(server, op.method, concretePath(op), { token: viewer });
      if (res.status !== 403 || res.body?.error?.code !== 'forbidden') {
        failures.push(`${label(op)} → ${res.status}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('lets a viewer read every read route that is not admin-only', async () => {
    for (const op of operations.filter((o) => !isMutation(o) && !ADMIN_ONLY.test(o.path))) {
      const res = await rawCall(server, op.method, concretePath(op), { token: viewer });
      expect([401, 403], label(op)).not.toContain(res.status);
    }
  });

  it('answers 403 to an operator on every admin route', async () => {
    const adminOps = operations.filter((o) => ADMIN_ONLY.test(o.path));
    expect(adminOps.length).toBeGreaterThan(8);
    for (const op of adminOps) {
      const res = await rawCall(server, op.method, concretePath(op), { token: operator });
      expect(res.status, label(op)).toBe(403);
    }
  });

  it('sets no cookie and allows no cross-origin caller (sessions are CSRF-safe)', async () => {
    const login = await fetch(`${server.httpUrl}/api/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
      body: JSON.stringify({ username: 'route-viewer', password: 'pw-route-viewer-0123456789' }),
    });
    expect(login.status).toBe(201);
    expect(login.headers.get('set-cookie')).toBeNull();
    expect(login.headers.get('access-control-allow-origin')).toBeNull();
    expect(login.headers.get('cache-control')).toBe('no-store');

    // A browser asks before sending a cross-site request with an Authorization header.
    const preflight = await fetch(`${server.httpUrl}/api/v1/devices`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://evil.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    expect(preflight.headers.get('access-control-allow-headers')).toBeNull();

    // What a cross-site HTML form can send: no credentials, and a content type refused anyway.
    const form = await rawCall(server, 'POST', '/devices', {
      body: 'deviceId=evil',
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(form.status).toBe(401);
  });
});
