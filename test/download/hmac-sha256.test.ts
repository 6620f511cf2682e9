import { createHmac } from 'node:crypto';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { HmacSha256 } from '../../src/server/download/hmac-sha256.js';

const runs = Number(process.env.FUZZ_RUNS ?? 500);

describe('HmacSha256', () => {
  it('matches RFC 4231 test case 2', () => {
    const mac = new HmacSha256(Buffer.from('Jefe')).mac(
      Buffer.from('what do ya want for nothing?'),
    );
    expect(Buffer.from(mac).toString('hex')).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  it('agrees with node:crypto for any key and message, across block boundaries', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 150 }),
        fc.uint8Array({ minLength: 0, maxLength: 200 }),
        (key, msg) => {
          const ours = Buffer.from(new HmacSha256(key).mac(msg));
          expect(ours.equals(createHmac('sha256', key).update(msg).digest())).toBe(true);
        },
      ),
      { numRuns: runs },
    );
  });

  it('gives the same answer when one key is reused for many messages', () => {
    const key = Buffer.alloc(32, 9);
    const hmac = new HmacSha256(key);
    for (let len = 0; len < 130; len++) {
      const msg = Buffer.alloc(len, len);
      expect(Buffer.from(hmac.mac(msg))).toEqual(createHmac('sha256', key).update(msg).digest());
    }
  });
});
