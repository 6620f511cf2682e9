import { ApiError } from '../api/api-error';

/**
 * Whether this server offers password login (`POST /api/v1/login`): read from its public
 * OpenAPI document, so the console works with servers from before and after that feature.
 */
export async function passwordLoginAvailable(): Promise<boolean> {
  try {
    const response = await fetch('/api/v1/openapi.json');
    if (!response.ok) return false;
    const doc = (await response.json()) as { paths?: Record<string, unknown> };
    return Boolean(doc.paths?.['/api/v1/login']);
  } catch {
    return false;
  }
}

/** Exchanges a user name and password for a bearer token. */
export async function loginWithPassword(username: string, password: string): Promise<string> {
  const body = await post('/api/v1/login', { username, password }, null);
  const token = (body as { token?: unknown })?.token;
  if (typeof token !== 'string')
    throw new ApiError(500, 'bad_login_answer', 'the server sent no token');
  return token;
}

/**
 * Checks that a token is accepted and learns whose it is from `GET /api/v1/session`; servers
 * without that route are asked for one device instead, and the token goes unnamed.
 */
export async function checkToken(token: string): Promise<string> {
  const headers = { authorization: `Bearer ${token}` };
  let response: Response;
  try {
    response = await fetch('/api/v1/session', { headers });
    if (response.status === 404) response = await fetch('/api/v1/devices?limit=1', { headers });
  } catch {
    throw ApiError.network();
  }
  const body = (await response.json().catch(() => null)) as { username?: unknown } | null;
  if (response.status === 401) {
    throw new ApiError(401, 'unauthorized', 'the server does not accept this token');
  }
  if (!response.ok) throw ApiError.fromBody(response.status, body);
  return typeof body?.username === 'string' ? `${body.username} (API token)` : 'API token';
}

/** Ends a password session on the server; a failure here still signs the console out. */
export async function logout(token: string): Promise<void> {
  await post('/api/v1/logout', undefined, token).catch(() => undefined);
}

async function post(url: string, body: unknown, token: string | null): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        ...(token && { authorization: `Bearer ${token}` }),
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw ApiError.network();
  }
  const parsed: unknown = await response.json().catch(() => null);
  if (response.status === 404 && url.endsWith('/login')) {
    throw new ApiError(404, 'no_login', 'this server has no password login yet; use an API token');
  }
  if (!response.ok) throw ApiError.fromBody(response.status, parsed);
  return parsed;
}
