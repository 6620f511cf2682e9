import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A device secret: 24 random bytes, base64url (32 characters), shown once at registration. */
export function newDeviceSecret(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * Device secrets are random and long, so a fast hash is as strong as a slow one here and keeps
 * 100,000 reconnecting devices cheap. (Operator passwords, chosen by people, use scrypt.)
 */
export function hashDeviceSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function deviceSecretMatches(secret: string, storedHash: string): boolean {
  const given = Buffer.from(hashDeviceSecret(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}
