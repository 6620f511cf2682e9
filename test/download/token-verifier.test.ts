import { randomBytes } from 'node:crypto';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { TokenVerifier } from '../../src/server/download/token-verifier.js';
import {
  signDownloadToken,
  verifyDownloadToken,
  type TokenKeyring,
} from '../../src/shared/token/download-token.js';

const runs = Number(process.env.FUZZ_RUNS ?? 1000);
const secrets = new Map([
  [1, randomBytes(32)],
  [2, randomBytes(16)],
]);
const keyring: TokenKeyring = { secret: (id) => secrets.get(id) };
const verifier = new TokenVerifier(keyring);

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const grant = fc.record({
  keyId: fc.constantFrom(1, 2),
  packageId: u32,
  deviceRowId: u32,
  actionId: u32,
  notBefore: u32,
  expiresAt: u32,
});
const base64url = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Signed tokens, then changed the ways an attacker or a broken client would change them. */
const token = fc.oneof(
  grant.map((g) => signDownloadToken(g, secrets.get(g.keyId)!)),
  fc
    .tuple(grant, fc.nat(50), fc.constantFrom(...base64url, '.', '=', ' ', 'é'))
    .map(([g, at, c]) => {
      const t = signDownloadToken(g, secrets.get(g.keyId)!);
      return t.slice(0, at) + c + t.slice(at + 1);
    }),
  fc.tuple(grant, fc.integer({ min: -3, max: 3 })).map(([g, d]) => {
    const t = signDownloadToken(g, secrets.get(g.keyId)!);
    return d >= 0 ? t + 'A'.repeat(d) : t.slice(0, d);
  }),
  fc.string({ minLength: 51, maxLength: 51 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
);

describe('TokenVerifier', () => {
  it('answers exactly as verifyDownloadToken does', () => {
    fc.assert(
      fc.property(token, u32, fc.nat(3600), (text, now, skew) => {
        expect(verifier.verify(text, now, skew)).toEqual(
          verifyDownloadToken(text, keyring, now, skew),
        );
      }),
      { numRuns: runs },
    );
  });

  it('follows the keyring: a new secret for a key id takes effect at once', () => {
    const g = { keyId: 3, packageId: 1, deviceRowId: 2, actionId: 3, notBefore: 0, expiresAt: 99 };
    secrets.set(3, randomBytes(32));
    const first = signDownloadToken(g, secrets.get(3)!);
    expect(verifier.verify(first, 10, 0).ok).toBe(true);

    secrets.set(3, randomBytes(32));
    expect(verifier.verify(first, 10, 0)).toEqual({ ok: false, reason: 'tampered' });
    secrets.delete(3);
    expect(verifier.verify(first, 10, 0)).toEqual({ ok: false, reason: 'unknown_key' });
  });
});
