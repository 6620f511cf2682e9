import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';

export class CliError extends Error {
  override name = 'CliError';
}

export interface ApiOptions {
  readonly server?: string;
  readonly token?: string;
  readonly dataDir?: string;
}

/**
 * A thin client of the management API. The server URL comes from --server or TIOTA_SERVER
 * (default http://127.0.0.1:8080); the token from --token, TIOTA_TOKEN, or the admin token
 * file the server wrote in its data folder (--data-dir / TIOTA_DATA_DIR, default ./tiota-data).
 */
export class ApiClient {
  readonly baseUrl: string;
  readonly #token: string;

  constructor(options: ApiOptions) {
    this.baseUrl = (options.server ?? process.env.TIOTA_SERVER ?? 'http://127.0.0.1:8080').replace(
      /\/+$/,
      '',
    );
    this.#token = options.token ?? process.env.TIOTA_TOKEN ?? readTokenFile(options.dataDir);
  }

  async request<T>(
    method: string,
    route: string,
    body?: unknown,
    init: RequestInit = {},
  ): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}/api/v1${route}`, {
        method,
        ...init,
        headers: {
          authorization: `Bearer ${this.#token}`,
          ...(body !== undefined && { 'content-type': 'application/json' }),
          ...(init.headers as Record<string, string>),
        },
        body: body !== undefined ? JSON.stringify(body) : init.body,
      });
    } catch (error) {
      const cause =
        (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new CliError(
        `cannot reach the Tiota server at ${this.baseUrl} (${cause}); set --server or TIOTA_SERVER`,
      );
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      throw new CliError(`the server answered ${response.status} with a body that is not JSON`);
    }
    if (!response.ok) {
      const error = json?.error;
      if (response.status === 401 && !this.#token) {
        throw new CliError(
          'no API token: pass --token, set TIOTA_TOKEN, or point --data-dir / TIOTA_DATA_DIR at ' +
            "the server's data folder (it holds admin-token)",
        );
      }
      throw new CliError(
        typeof error?.message === 'string'
          ? `${error.message} [${error.code}]`
          : `the server answered ${response.status} ${response.statusText}`.trim(),
      );
    }
    return json as T;
  }
}

function readTokenFile(dataDir?: string): string {
  const file = path.join(dataDir ?? process.env.TIOTA_DATA_DIR ?? './tiota-data', 'admin-token');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Adds --server/--token/--data-dir/--json to a command that talks to the API. */
export function withApiOptions(command: Command): Command {
  return command
    .option('--server <url>', 'Tiota server URL (env TIOTA_SERVER, default http://127.0.0.1:8080)')
    .option('--token <token>', 'API token (env TIOTA_TOKEN, default <data-dir>/admin-token)')
    .option('--data-dir <dir>', 'server data folder holding admin-token (env TIOTA_DATA_DIR)')
    .option('--json', 'print JSON for scripts');
}

export function clientFor(options: ApiOptions): ApiClient {
  return new ApiClient(options);
}
