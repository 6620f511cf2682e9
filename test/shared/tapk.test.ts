import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  crc16CcittFalse,
  parseTapk,
  TapkError,
  TapkStreamChecker,
} from '../../src/shared/tapk/index.js';
import { FIXTURE_TAPK } from '../support/fixture.js';

const fixture = readFileSync(FIXTURE_TAPK);

describe('CRC-16/CCITT-FALSE', () => {
  it('gives the catalogue check value 0x29B1 for "123456789"', () => {
    expect(crc16CcittFalse(Buffer.from('123456789'))).toBe(0x29b1);
  });
});

describe('the .tapk trailer of the real fixture', () => {
  // Expected values: shared/fixtures/tapk/README.md.
  it('reads name, description, build time and CRC', () => {
    const info = parseTapk(fixture);
    expect(fixture.length).toBe(20384);
    expect(info.name).toBe('tijos-http-ota');
    expect(info.description).toBe('OTA via CoAP');
    expect(info.buildTime).toBe(0x607109e4);
    expect(new Date(info.buildTime * 1000).toISOString()).toBe('2021-04-10T02:13:56.000Z');
    expect(info.crc).toBe(0x58b9);
  });

  it('gives the same result streamed in chunks of any size', () => {
    for (const size of [1, 7, 255, 256, 257, 4096, fixture.length]) {
      const checker = new TapkStreamChecker();
      for (let i = 0; i < fixture.length; i += size) checker.update(fixture.subarray(i, i + size));
      expect(checker.finish()).toEqual(parseTapk(fixture));
    }
  });

  it('refuses a file with one flipped byte, naming the CRC', () => {
    for (const offset of [0, 100, fixture.length - 300, fixture.length - 3]) {
      const corrupt = Buffer.from(fixture);
      corrupt[offset] ^= 0x01;
      expect(() => parseTapk(corrupt)).toThrow(/CRC-16/);
    }
  });

  it('refuses a file without the magic and a file shorter than a trailer', () => {
    const noMagic = Buffer.from(fixture);
    noMagic.write('XXXX', fixture.length - 256, 'latin1');
    expect(() => parseTapk(noMagic)).toThrow(/magic/);
    const short = fixture.subarray(0, 100);
    expect(() => parseTapk(short)).toThrowError(TapkError);
  });
});
