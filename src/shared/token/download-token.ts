import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The download URL token: `/d/<token>`. It carries its own proof so that a device's short
 * URL (< 128 characters with `"<oldAppId> "` in front, see docs/protocol.md) needs no lookup
 * to be judged genuine. Layout, 38 bytes, base64url without padding (51 characters):
 *
 *   0  u8   format version (1)
 *   1  u8   key id (which HMAC secret signed it; lets keys rotate without breaking URLs)
 *   2  u32  package id
 *   6  u32  device row id
 *  10  u32  action id (0 when the URL belongs to no rollout)
 *  14  u32  not before, Unix seconds
 *  18  u32  expires at, Unix seconds
 *  22  16B  HMAC-SHA256 over bytes 0..21, truncated to 128 bits
 */
export const TOKEN_VERSION = 1;
const BODY_SIZE = 22;
const MAC_SIZE = 16;
export const TOKEN_BYTES = BODY_SIZE + MAC_SIZE;
export const TOKEN_LENGTH = Math.ceil((TOKEN_BYTES * 4) / 3);

export interface DownloadGrant {
  readonly keyId: number;
  readonly packageId: number;
  readonly deviceRowId: number;
  readonly actionId: number;
  /** Unix seconds. */
  readonly notBefore: number;
  /** Unix seconds. */
  readonly expiresAt: number;
}

/** Why a token was refused; stable, shown in the 403 body and the log. */
export type TokenRefusal = 'malformed' | 'unknown_key' | 'tampered' | 'expired' | 'not_yet_valid';

export type TokenCheck =
  | { readonly ok: true; readonly grant: DownloadGrant }
  | { readonly ok: false; readonly reason: TokenRefusal };

export interface TokenKeyring {
  /** The secret for a key id, or undefined when no such key is kept. */
  secret(keyId: number): Buffer | undefined;
}

const U32_MAX = 0xffffffff;

export function signDownloadToken(grant: DownloadGrant, secret: Buffer): string {
  for (const [field, value] of Object.entries(grant)) {
    const max = field === 'keyId' ? 255 : U32_MAX;
    if (!Number.isInteger(value) || value < 0 || value > max) {
      throw new RangeError(`download token field ${field} out of range: ${value}`);
    }
  }
  const token = Buffer.alloc(TOKEN_BYTES);
  token.writeUInt8(TOKEN_VERSION, 0);
  token.writeUInt8(grant.keyId, 1);
  token.writeUInt32BE(grant.packageId, 2);
  token.writeUInt32BE(grant.deviceRowId, 6);
  token.writeUInt32BE(grant.actionId, 10);
  token.writeUInt32BE(grant.notBefore, 14);
  token.writeUInt32BE(grant.expiresAt, 18);
  mac(secret, token.subarray(0, BODY_SIZE)).copy(token, BODY_SIZE);
  return token.toString('base64url');
}

/**
 * Checks a token's form, key, MAC (in constant time) and validity window.
 * Issuer and checker are both servers (devices never judge time), so the only skew is between
 * replicas' clocks: `skewSeconds` is allowed before `notBefore`. Expiry is exact, so a URL's
 * lifetime is exactly what the operator configured.
 */
export function verifyDownloadToken(
  text: string,
  keyring: TokenKeyring,
  nowSeconds: number,
  skewSeconds: number,
): TokenCheck {
  if (text.length !== TOKEN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(text)) {
    return { ok: false, reason: 'malformed' };
  }
  const token = Buffer.from(text, 'base64url');
  // base64url has slack in its last character; re-encoding catches a changed spare bit.
  if (token.length !== TOKEN_BYTES || token.toString('base64url') !== text) {
    return { ok: false, reason: 'tampered' };
  }
  if (token.readUInt8(0) !== TOKEN_VERSION) return { ok: false, reason: 'malformed' };

  const keyId = token.readUInt8(1);
  const secret = keyring.secret(keyId);
  if (!secret) return { ok: false, reason: 'unknown_key' };
  const expected = mac(secret, token.subarray(0, BODY_SIZE));
  if (!timingSafeEqual(expected, token.subarray(BODY_SIZE))) {
    return { ok: false, reason: 'tampered' };
  }

  const grant: DownloadGrant = {
    keyId,
    packageId: token.readUInt32BE(2),
    deviceRowId: token.readUInt32BE(6),
    actionId: token.readUInt32BE(10),
    notBefore: token.readUInt32BE(14),
    expiresAt: token.readUInt32BE(18),
  };
  if (nowSeconds + skewSeconds < grant.notBefore) return { ok: false, reason: 'not_yet_valid' };
  if (nowSeconds >= grant.expiresAt) return { ok: false, reason: 'expired' };
  return { ok: true, grant };
}

function mac(secret: Buffer, body: Buffer): Buffer {
  return createHmac('sha256', secret).update(body).digest().subarray(0, MAC_SIZE);
}
