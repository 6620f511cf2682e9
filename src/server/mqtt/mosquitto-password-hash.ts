import { pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';

/**
 * Mosquitto 2's password file format, as `mosquitto_passwd` writes it: `$7$<iterations>$<salt
 * base64>$<PBKDF2-HMAC-SHA512 base64>`, with a 12-byte salt and a 64-byte key. 101 iterations
 * is mosquitto_passwd's own default; device secrets are 24 random bytes, so the hash's strength
 * comes from the secret, not from the iteration count.
 */
const ITERATIONS = 101;
const SALT_BYTES = 12;
const KEY_BYTES = 64;

export function mosquittoPasswordHash(password: string, salt = randomBytes(SALT_BYTES)): string {
  const key = pbkdf2Sync(password, salt, ITERATIONS, KEY_BYTES, 'sha512');
  return `$7$${ITERATIONS}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Whether `password` matches a `$7$` hash (tests and diagnostics; Mosquitto does the real check). */
export function mosquittoPasswordMatches(password: string, hash: string): boolean {
  const [, scheme, iterations, salt, key] = hash.split('$');
  if (scheme !== '7' || !iterations || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const given = pbkdf2Sync(
    password,
    Buffer.from(salt, 'base64'),
    Number(iterations),
    expected.length,
    'sha512',
  );
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Stores a new device's secret in the broker's format. The secret exists in plain text only at
 * registration, so this runs then, whichever broker is in use: a fleet that moves from the
 * embedded broker to Mosquitto keeps its credentials.
 */
export async function saveBrokerPasswordHash(
  db: Kysely<Database>,
  deviceId: string,
  password: string,
): Promise<void> {
  await db
    .updateTable('devices')
    .set({ broker_password_hash: mosquittoPasswordHash(password) })
    .where('device_id', '=', deviceId)
    .execute();
}
