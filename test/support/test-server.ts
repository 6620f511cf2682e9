import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { resolveConfig, type ServerConfig } from '../../src/server/config.js';
import { createLogger } from '../../src/server/log.js';
import { startServer, type RunningServer } from '../../src/server/start-server.js';
import { eventually } from './mqtt-device.js';

export interface TestServer extends RunningServer {
  readonly token: string;
  readonly dataDir: string;
  /** Calls the management API with the admin token. */
  api<T = any>(method: string, route: string, body?: unknown): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

/**
 * A real server in this process on free ports, with its own data folder. `database: 'postgres'`
 * gives it a fresh PostgreSQL database on 127.0.0.1:5432 (dropped at stop).
 */
export async function startTestServer(
  options: {
    database?: 'sqlite' | 'postgres';
    config?: Partial<Record<keyof ServerConfig, string>>;
  } = {},
): Promise<TestServer> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tiota-test-'));
  const pgDb = options.database === 'postgres' ? await createPgDatabase() : null;
  const config = resolveConfig(
    {
      dataDir,
      httpHost: '127.0.0.1',
      httpPort: '0',
      mqttHost: '127.0.0.1',
      mqttPort: '0',
      ...(pgDb && { databaseUrl: pgDb.url }),
      ...options.config,
    },
    {},
  );
  const server = await startServer(config, createLogger(process.env.TIOTA_TEST_LOG ?? 'silent'));
  const token = (await readFile(server.admin.tokenFile, 'utf8')).trim();
  return {
    ...server,
    token,
    dataDir,
    api: (method, route, body) => callApi(server.httpUrl, token, method, route, body),
    stop: async () => {
      await server.close();
      await pgDb?.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function callApi<T = any>(
  baseUrl: string,
  token: string | null,
  method: string,
  route: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${baseUrl}/api/v1${route}`, {
    method,
    headers: {
      ...(token && { authorization: `Bearer ${token}` }),
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

type Api = (method: string, route: string) => Promise<{ body: any }>;

/** Polls a rollout through `api` until it is completed; resolves with its view. */
export function rolloutCompleted(api: Api, rolloutId: number, timeoutMs: number): Promise<any> {
  return eventually(
    async () => {
      const view = (await api('GET', `/rollouts/${rolloutId}`)).body;
      return view.status === 'completed' ? view : null;
    },
    timeoutMs,
    'rollout completed',
  );
}

/** A fresh database on the local PostgreSQL (trust auth), named uniquely for this run. */
export async function createPgDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = process.env.TIOTA_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
  const name = `tiota_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`create database ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
