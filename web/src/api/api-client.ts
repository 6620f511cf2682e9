import { ApiError } from './api-error';

/** Calls the management API under /api/v1 with the session's bearer token. */
export class ApiClient {
  constructor(
    readonly token: string,
    /** Called when the server rejects the token (expired, revoked, logged out elsewhere). */
    readonly onUnauthorized: () => void,
  ) {}

  get<T>(route: string, query?: Record<string, string | number | boolean | undefined>) {
    return this.request<T>('GET', route + queryString(query));
  }

  post<T>(route: string, body?: unknown) {
    return this.request<T>('POST', route, body);
  }

  delete(route: string) {
    return this.request<void>('DELETE', route);
  }

  async request<T>(method: string, route: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`/api/v1${route}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw ApiError.network();
    }

    const text = await response.text();
    const parsed: unknown = text ? safeJson(text) : undefined;
    if (response.status === 401) this.onUnauthorized();
    if (!response.ok) throw ApiError.fromBody(response.status, parsed);
    return parsed as T;
  }
}

export function queryString(query?: Record<string, string | number | boolean | undefined>): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
