import { callApi, type TestServer } from '../support/test-server.js';

/** One operation of the management API, as the server's own OpenAPI document lists it. */
export interface ApiOperation {
  readonly method: string;
  /** OpenAPI form, e.g. `/api/v1/devices/{id}`. */
  readonly path: string;
  /** True when the route declares `security: []` (no bearer token). */
  readonly public: boolean;
  readonly hasBody: boolean;
  readonly parameters: readonly { in: string; name: string; schema?: { type?: string } }[];
}

/**
 * Every operation the server serves, read from `/api/v1/openapi.json`, so a route added later
 * is covered by the security suites without anyone remembering to list it.
 */
export async function apiOperations(server: TestServer): Promise<ApiOperation[]> {
  const response = await fetch(`${server.httpUrl}/api/v1/openapi.json`);
  const doc = (await response.json()) as { paths: Record<string, Record<string, any>> };
  const operations: ApiOperation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      operations.push({
        method: method.toUpperCase(),
        path,
        public: Array.isArray(op.security) && op.security.length === 0,
        hasBody: op.requestBody !== undefined,
        parameters: op.parameters ?? [],
      });
    }
  }
  return operations;
}

export const isMutation = (op: { method: string }): boolean =>
  op.method !== 'GET' && op.method !== 'HEAD';

export const label = (op: { method: string; path: string }): string => `${op.method} ${op.path}`;

/** A concrete URL path (below /api/v1) for an operation, with plausible path parameters. */
export function concretePath(op: ApiOperation, values: Record<string, string> = {}): string {
  return op.path
    .replace(/^\/api\/v1/, '')
    .replace(
      /\{(\w+)\}/g,
      (_m, name: string) => values[name] ?? (name === 'username' ? 'nobody' : '1'),
    );
}

/** Calls an operation with a raw body and headers, returning status, headers and parsed JSON. */
export async function rawCall(
  server: TestServer,
  method: string,
  path: string,
  init: { token?: string | null; body?: string | Buffer; contentType?: string } = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const headers: Record<string, string> = {};
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.contentType) headers['content-type'] = init.contentType;
  const response = await fetch(`${server.httpUrl}/api/v1${path}`, {
    method,
    headers,
    body: init.body,
  });
  const text = await response.text();
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: the assertions on `body.error` will say so.
  }
  return { status: response.status, headers: response.headers, body };
}

/** Creates an account with a role and logs it in; returns its console session token. */
export async function sessionFor(
  server: TestServer,
  username: string,
  role: 'admin' | 'operator' | 'viewer',
): Promise<{ token: string; password: string }> {
  const password = `pw-${username}-0123456789`;
  const created = await server.api('POST', '/accounts', { username, role, password });
  if (created.status !== 201)
    throw new Error(`account ${username}: ${JSON.stringify(created.body)}`);
  const login = await callApi(server.httpUrl, null, 'POST', '/login', { username, password });
  if (login.status !== 201) throw new Error(`login ${username}: ${JSON.stringify(login.body)}`);
  return { token: login.body.token as string, password };
}

/** The newest audit entries, newest first. */
export async function auditEntries(server: TestServer, limit = 50): Promise<any[]> {
  const result = await server.api('GET', `/audit?limit=${limit}`);
  return result.body.entries as any[];
}
