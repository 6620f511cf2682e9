import { createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isValidDeviceId } from '../shared/protocol/index.js';

/**
 * What registration hands a device (`tiota device add ID --json`, `POST /api/v1/devices`).
 * The signing key is pinned here: the agent trusts no other.
 */
export interface DeviceCredentials {
  readonly deviceId: string;
  readonly mqttUrl: string;
  readonly username: string;
  readonly password: string;
  /** Ed25519 public key, PEM (SPKI). */
  readonly signingPublicKey: string;
  readonly serverUrl?: string;
}

export class CredentialsError extends Error {
  override name = 'CredentialsError';
}

export function parseCredentials(value: unknown, source = 'credentials'): DeviceCredentials {
  if (typeof value !== 'object' || value === null) {
    throw new CredentialsError(`${source}: expected a JSON object`);
  }
  const v = value as Record<string, unknown>;
  const text = (key: string): string => {
    if (typeof v[key] !== 'string' || (v[key] as string).length === 0) {
      throw new CredentialsError(`${source}: "${key}" is missing`);
    }
    return v[key] as string;
  };
  const credentials: DeviceCredentials = {
    deviceId: text('deviceId'),
    mqttUrl: text('mqttUrl'),
    username: text('username'),
    password: text('password'),
    signingPublicKey: text('signingPublicKey'),
    serverUrl: typeof v.serverUrl === 'string' ? v.serverUrl : undefined,
  };
  if (!isValidDeviceId(credentials.deviceId)) {
    throw new CredentialsError(`${source}: "${credentials.deviceId}" is not a valid device id`);
  }
  if (!/^(mqtts?|wss?|tcp|ssl):\/\//.test(credentials.mqttUrl)) {
    throw new CredentialsError(`${source}: "mqttUrl" must be an mqtt:// or mqtts:// URL`);
  }
  let keyType: string | undefined;
  try {
    keyType = createPublicKey(credentials.signingPublicKey).asymmetricKeyType;
  } catch {
    throw new CredentialsError(`${source}: "signingPublicKey" is not a PEM public key`);
  }
  if (keyType !== 'ed25519') {
    throw new CredentialsError(
      `${source}: "signingPublicKey" must be an Ed25519 key, not ${keyType}`,
    );
  }
  return credentials;
}

export async function readCredentials(file: string): Promise<DeviceCredentials> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CredentialsError(`cannot read ${file}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CredentialsError(`${file} is not JSON`);
  }
  return parseCredentials(json, file);
}
