import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  signDownloadToken,
  TOKEN_LENGTH,
  verifyDownloadToken,
  type DownloadGrant,
} from '../../src/shared/token/download-token.js';

const secret = randomBytes(32);
const keyring = { secret: (id: number) => (id === 3 ? secret : undefined) };
const issued = 1_800_000_000;
const grant: DownloadGrant = {
  keyId: 3,
  packageId: 7,
  deviceRowId: 42,
  actionId: 9,
  notBefore: issued,
  expiresAt: issued + 7 * 86400,
};

describe('download tokens', () => {
  it('are 51 URL-safe characters', () => {
    const token = signDownloadToken(grant, secret);
    expect(token).toHaveLength(TOKEN_LENGTH);
    expect(TOKEN_LENGTH).toBe(51);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('carry their grant back when genuine', () => {
    const check = verifyDownloadToken(signDownloadToken(grant, secret), keyring, issued + 10, 30);
    expect(check).toEqual({ ok: true, grant });
  });

  it('work at +6 days and fail at +7 days + 1 s for a 7-day URL', () => {
    const token = signDownloadToken(grant, secret);
    expect(verifyDownloadToken(token, keyring, issued + 6 * 86400, 30).ok).toBe(true);
    expect(verifyDownloadToken(token, keyring, issued + 7 * 86400 + 1, 30)).toEqual({
      ok: false,
      reason: 'expired',
    });
  });

  it('refuse use before not-before beyond the skew allowance', () => {
    const token = signDownloadToken(grant, secret);
    expect(verifyDownloadToken(token, keyring, issued - 20, 30).ok).toBe(true);
    expect(verifyDownloadToken(token, keyring, issued - 31, 30)).toEqual({
      ok: false,
      reason: 'not_yet_valid',
    });
  });

  it('refuse every single-character change', () => {
    const token = signDownloadToken(grant, secret);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = 0; i < token.length; i++) {
      const other = alphabet[(alphabet.indexOf(token[i]) + 1) % alphabet.length];
      const changed = token.slice(0, i) + other + token.slice(i + 1);
      const check = verifyDownloadToken(changed, keyring, issued + 10, 30);
      expect(check.ok, `position ${i}`).toBe(false);
    }
  });

  it('name an unknown key and malformed text', () => {
    const other = signDownloadToken({ ...grant, keyId: 4 }, secret);
    expect(verifyDownloadToken(other, keyring, issued, 30)).toEqual({
      ok: false,
      reason: 'unknown_key',
    });
    expect(verifyDownloadToken('short', keyring, issued, 30)).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });
});
