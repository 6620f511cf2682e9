import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../agent/atomic-write.js';
import { parseCredentials, type DeviceCredentials } from '../agent/index.js';

export interface RegistrationOptions {
  /** Base URL of the server, e.g. http://127.0.0.1:8080 */
  readonly serverUrl: string;
  /** Bearer token of an operator allowed to register devices. */
  readonly token: string;
  readonly count: number;
  /** Device ids are `<prefix>-<n>`, n from 1, zero-padded. */
  readonly prefix: string;
  readonly tags: readonly string[];
  readonly profile: string;
  /**
   * Credentials file kept between runs: a device's password is shown once, so a second run
   * with the same prefix can only reuse devices whose credentials it kept.
   */
  readonly cacheFile: string;
  /** Registrations in flight (default 16). */
  readonly concurrency?: number;
  readonly onProgress?: (done: number) => void;
}

export class RegistrationError extends Error {
  override name = 'RegistrationError';
}

export function deviceIds(prefix: string, count: number): string[] {
  const width = String(count).length;
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(width, '0')}`);
}

/**
 * Registers the simulated devices through the management API (`POST /api/v1/devices`), as an
 * operator's provisioning would, reusing those already registered by an earlier run.
 */
export async function registerDevices(o: RegistrationOptions): Promise<DeviceCredentials[]> {
  const cache = await readCache(o.cacheFile, o.serverUrl);
  const ids = deviceIds(o.prefix, o.count);
  const missing = ids.filter((id) => !cache.has(id));
  let next = 0;
  let done = ids.length - missing.length;
  const worker = async (): Promise<void> => {
    while (next < missing.length) {
      const id = missing[next++];
      cache.set(id, await registerOne(o, id));
      o.onProgress?.(++done);
    }
  };
  try {
    await Promise.all(Array.from({ length: o.concurrency ?? 16 }, worker));
  } finally {
    await writeCache(o.cacheFile, o.serverUrl, cache);
  }
  return ids.map((id) => cache.get(id)!);
}

async function registerOne(o: RegistrationOptions, deviceId: string): Promise<DeviceCredentials> {
  let response: Response;
  try {
    response = await fetch(`${o.serverUrl}/api/v1/devices`, {
      method: 'POST',
      headers: { authorization: `Bearer ${o.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ deviceId, tags: o.tags, profile: o.profile }),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? String(error);
    throw new RegistrationError(`cannot reach the Tiota server at ${o.serverUrl} (${cause})`);
  }
  const body = (await response.json().catch(() => null)) as {
    error?: { code?: string; message?: string };
  } | null;
  if (response.status === 409 || body?.error?.code === 'device_exists') {
    throw new RegistrationError(
      `device ${deviceId} is already registered and its password is not in ${o.cacheFile}: ` +
        'use another --prefix',
    );
  }
  if (!response.ok) {
    const reason = body?.error
      ? `${body.error.message} [${body.error.code}]`
      : `${response.status}`;
    throw new RegistrationError(`registering ${deviceId} failed: ${reason}`);
  }
  return parseCredentials(body, `registration of ${deviceId}`);
}

type Cache = Map<string, DeviceCredentials>;

async function readCache(file: string, serverUrl: string): Promise<Cache> {
  try {
    const json = JSON.parse(await readFile(file, 'utf8')) as {
      serverUrl: string;
      devices: Record<string, DeviceCredentials>;
    };
    if (json.serverUrl !== serverUrl) return new Map();
    return new Map(Object.entries(json.devices));
  } catch {
    return new Map();
  }
}

async function writeCache(file: string, serverUrl: string, cache: Cache): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const devices = Object.fromEntries(cache);
  await writeFileAtomic(file, JSON.stringify({ serverUrl, devices }, null, 1));
}
