import {
  TOKEN_BYTES,
  TOKEN_LENGTH,
  TOKEN_VERSION,
  type DownloadGrant,
  type TokenCheck,
  type TokenKeyring,
  type TokenRefusal,
} from '../../shared/token/download-token.js';
import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * verifyDownloadToken (src/shared/token) for the download hot path: the same checks, the same
 * answers (test/download/token-verifier.test.ts compares the two on random and mutated
 * tokens), decoding base64url into a reused buffer. The MAC is Node's own HMAC-SHA256: a
 * faster home-made SHA-256 was measured (about 3 µs less per download) and refused, since a
 * security primitive is not ours to write. The token layout is the token module's.
 */
const BODY_SIZE = 22;
const MAC_SIZE = TOKEN_BYTES - BODY_SIZE;

// base64url alphabet → 6-bit value, -1 for anything else.
const DECODE = new Int8Array(128).fill(-1);
for (const [i, c] of [
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
].entries()) {
  DECODE[c.charCodeAt(0)] = i;
}

/** Refusals are answered with shared, frozen objects: a refused request allocates nothing. */
const REFUSED = Object.fromEntries(
  (['malformed', 'unknown_key', 'tampered', 'expired', 'not_yet_valid'] as const).map((r) => [
    r,
    Object.freeze({ ok: false, reason: r }),
  ]),
) as Record<TokenRefusal, TokenCheck>;

export class TokenVerifier {
  readonly #keyring: TokenKeyring;
  readonly #bytes = new Uint8Array(TOKEN_BYTES + 1);
  readonly #view = new DataView(this.#bytes.buffer);

  constructor(keyring: TokenKeyring) {
    this.#keyring = keyring;
  }

  verify(text: string, nowSeconds: number, skewSeconds: number): TokenCheck {
    if (text.length !== TOKEN_LENGTH) return REFUSED.malformed;
    const bytes = this.#bytes;

    // 4 characters → 3 bytes; the last 3 characters carry 2 bytes and 2 spare bits.
    let acc = 0;
    let bits = 0;
    let out = 0;
    for (let i = 0; i < TOKEN_LENGTH; i++) {
      const code = text.charCodeAt(i);
      const v = code < 128 ? DECODE[code] : -1;
      if (v < 0) return REFUSED.malformed;
      acc = ((acc << 6) | v) & 0xffffff;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        bytes[out++] = acc >>> bits;
      }
    }
    // Spare bits must be zero, or two texts would carry one token (the module's re-encode check).
    if ((acc & ((1 << bits) - 1)) !== 0) return REFUSED.tampered;
    if (bytes[0] !== TOKEN_VERSION) return REFUSED.malformed;

    const keyId = bytes[1];
    const secret = this.#keyring.secret(keyId);
    if (secret === undefined) return REFUSED.unknown_key;
    const expected = createHmac('sha256', secret)
      .update(bytes.subarray(0, BODY_SIZE))
      .digest()
      .subarray(0, MAC_SIZE);
    if (!timingSafeEqual(expected, bytes.subarray(BODY_SIZE, BODY_SIZE + MAC_SIZE))) {
      return REFUSED.tampered;
    }

    const view = this.#view;
    const grant: DownloadGrant = {
      keyId,
      packageId: view.getUint32(2),
      deviceRowId: view.getUint32(6),
      actionId: view.getUint32(10),
      notBefore: view.getUint32(14),
      expiresAt: view.getUint32(18),
    };
    if (nowSeconds + skewSeconds < grant.notBefore) return REFUSED.not_yet_valid;
    if (nowSeconds >= grant.expiresAt) return REFUSED.expired;
    return { ok: true, grant };
  }
}
