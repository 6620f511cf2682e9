import fc from 'fast-check';
import { describe, it } from 'vitest';
import {
  signDownloadToken,
  TOKEN_LENGTH,
  verifyDownloadToken,
  type DownloadGrant,
  type TokenCheck,
  type TokenKeyring,
} from '../../src/shared/token/download-token.js';
import { check, FUZZ_TIMEOUT_MS, fuzz, timed } from './fuzz-runs.js';

const REASONS = ['malformed', 'unknown_key', 'tampered', 'expired', 'not_yet_valid'];
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const SECRETS = new Map([
  [0, Buffer.alloc(32, 7)],
  [5, Buffer.alloc(32, 9)],
]);
const keyring: TokenKeyring = { secret: (id) => SECRETS.get(id) };
const NOW = 1_900_000_000;

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const grant: fc.Arbitrary<DownloadGrant> = fc.record({
  keyId: fc.constantFrom(0, 5),
  packageId: u32,
  deviceRowId: u32,
  actionId: u32,
  notBefore: fc.integer({ min: NOW - 100_000, max: NOW }),
  expiresAt: fc.integer({ min: NOW + 1, max: 0xffffffff }),
});
const sign = (g: DownloadGrant) => signDownloadToken(g, SECRETS.get(g.keyId)!);

/** Text a device, a proxy or an attacker could put after /d/. */
const hostileText = fc.oneof(
  fc.string({ maxLength: 120 }),
  fc.string({
    unit: fc.constantFrom(...ALPHABET),
    minLength: TOKEN_LENGTH,
    maxLength: TOKEN_LENGTH,
  }),
  fc.string({ unit: 'binary', minLength: TOKEN_LENGTH, maxLength: TOKEN_LENGTH }),
  grant.chain((g) =>
    fc
      .tuple(fc.nat(TOKEN_LENGTH - 1), fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }))
      .map(([at, c]) => {
        const token = sign(g);
        return token.slice(0, at) + c + token.slice(at + 1);
      }),
  ),
);

function refusedClearly(result: TokenCheck, text: string): void {
  check(!result.ok, () => `accepted ${JSON.stringify(text)}`);
  check(!result.ok && REASONS.includes(result.reason), 'unknown refusal reason');
}

/** The download token parsers (both the module and the hot path's): no crash, no hang. */
describe('fuzz: download token', () => {
  it(
    'refuses any text that is not a token it signed, with a stable reason',
    { timeout: FUZZ_TIMEOUT_MS },
    () => {
      fuzz(
        fc.property(hostileText, (text) => {
          const { value, error } = timed(() => verifyDownloadToken(text, keyring, NOW, 60));
          check(error === undefined, () => `threw on ${JSON.stringify(text)}: ${String(error)}`);
          // A one-character change may land on the same character: that is the token itself.
          if (value!.ok) check(verifyDownloadToken(text, keyring, NOW, 60).ok, 'unstable');
          else refusedClearly(value!, text);
        }),
      );
    },
  );

  it('accepts exactly the grants it signed, field for field', { timeout: FUZZ_TIMEOUT_MS }, () => {
    fuzz(
      fc.property(grant, (g) => {
        const token = sign(g);
        check(token.length === TOKEN_LENGTH && /^[A-Za-z0-9_-]+$/.test(token), 'token shape');
        const result = verifyDownloadToken(token, keyring, NOW, 60);
        check(result.ok && JSON.stringify(result.grant) === JSON.stringify(g), 'round trip');
      }),
    );
  });

  it('refuses every token with one character changed', { timeout: FUZZ_TIMEOUT_MS }, () => {
    fuzz(
      fc.property(grant, fc.nat(TOKEN_LENGTH - 1), fc.constantFrom(...ALPHABET), (g, at, c) => {
        const token = sign(g);
        fc.pre(token[at] !== c);
        const changed = token.slice(0, at) + c + token.slice(at + 1);
        refusedClearly(verifyDownloadToken(changed, keyring, NOW, 60), changed);
      }),
    );
  });

  it(
    'refuses to sign a grant with a field out of range, rather than wrap it',
    { timeout: FUZZ_TIMEOUT_MS },
    () => {
      const field = fc.constantFrom(
        'keyId',
        'packageId',
        'deviceRowId',
        'actionId',
        'notBefore',
        'expiresAt',
      );
      const bad = fc.oneof(
        fc.integer({ min: -1e12, max: -1 }),
        fc.integer({ min: 2 ** 32, max: 2 ** 52 }),
        fc.double({ noInteger: true }),
      );
      fuzz(
        fc.property(grant, field, bad, (g, key, value) => {
          const { error } = timed(() => sign({ ...g, [key]: value }));
          check(error instanceof RangeError, () => `${key}=${value} signed`);
        }),
      );
    },
  );
});
