import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Operator passwords: scrypt (memory-hard, in Node's own crypto). N=2^15, r=8 uses 32 MiB and
 * about 100 ms per check here, which also slows guessing. Stored as
 * `scrypt$<N>$<r>$<p>$<salt b64>$<hash b64>` so parameters can grow later.
 */
const PARAMS = { N: 1 << 15, r: 8, p: 1 };
const KEY_LENGTH = 32;

/** Longest password accepted, characters: long enough for passphrases, short enough to hash. */
export const MAX_PASSWORD_LENGTH = 256;
/** Shortest password an operator may choose. */
export const MIN_PASSWORD_LENGTH = 10;

function derive(password: string, salt: Buffer, params: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_LENGTH, { ...params, maxmem: 128 * 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, PARAMS);
  const { N, r, p } = PARAMS;
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  try {
    const params = { N: Number(n), r: Number(r), p: Number(p) };
    const key = await derive(password, Buffer.from(salt, 'base64'), params);
    return key.length === expected.length && timingSafeEqual(key, expected);
  } catch {
    // Parameters scrypt refuses: no password matches such a record.
    return false;
  }
}

let decoy: Promise<string> | undefined;

/**
 * Spends the time of one real check, for logins naming an unknown or disabled account, so the
 * answer time does not tell an attacker which usernames exist.
 */
export async function verifyDecoy(password: string): Promise<false> {
  decoy ??= hashPassword(randomBytes(16).toString('base64'));
  await verifyPassword(password, await decoy);
  return false;
}

/** Why a chosen password is refused, or null when it is acceptable. */
export function passwordProblem(password: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) {
    return `a password needs at least ${MIN_PASSWORD_LENGTH} characters`;
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    return `a password may have at most ${MAX_PASSWORD_LENGTH} characters`;
  }
  return null;
}
