import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/agent/backoff.js';
import { formatOtaArgs, parseOtaArgs } from '../../src/agent/ota-args.js';
import { rangeHeader, parseContentRange } from '../../src/agent/http-range.js';

describe('OTA arguments "<oldAppId> <url>" (TIJOS.md)', () => {
  it('round-trips an app id and a URL, -1 included', () => {
    const url = 'http://10.0.0.5:8080/d/AQEAAAABAAAAAgAAABFnXr8AZ2jRAFjV8vQ2aW3Ay2L7Yx9b9zXXabc';
    expect(parseOtaArgs(formatOtaArgs({ oldAppId: 12, url }))).toEqual({ oldAppId: 12, url });
    expect(parseOtaArgs(`-1 ${url}`)).toEqual({ oldAppId: -1, url });
  });

  it('refuses what the OTA app could not parse', () => {
    const url = 'http://h/d/x';
    for (const bad of [
      url,
      `1 ${url} extra`,
      `-2 ${url}`,
      `12345 ${url}`,
      `a ${url}`,
      '1 ftp://h/x',
    ]) {
      expect(() => parseOtaArgs(bad), bad).toThrow();
    }
    expect(() => parseOtaArgs(`1 http://h/${'x'.repeat(130)}`)).toThrow(/127/);
  });
});

describe('reconnect backoff', () => {
  it('doubles up to the cap, with half the step random', () => {
    const policy = { baseMs: 1000, maxMs: 8000 };
    expect(backoffDelay(0, policy, () => 0)).toBe(500);
    expect(backoffDelay(0, policy, () => 1)).toBe(1000);
    expect(backoffDelay(2, policy, () => 0)).toBe(2000);
    expect(backoffDelay(10, policy, () => 1)).toBe(8000);
    expect(backoffDelay(10, policy, () => 0)).toBe(4000);
  });
});

describe('Range headers (RFC 9110 §14)', () => {
  it('never asks a negative or inverted range', () => {
    expect(rangeHeader(0, 100)).toBeUndefined();
    expect(rangeHeader(10, null)).toBe('bytes=10-');
    expect(rangeHeader(10, 100)).toBe('bytes=10-99');
    expect(() => rangeHeader(100, 100)).toThrow();
  });

  it('parses Content-Range and refuses inconsistent ones', () => {
    expect(parseContentRange('bytes 10-99/100')).toEqual({ start: 10, end: 99, total: 100 });
    expect(parseContentRange('bytes 10-99/*')).toEqual({ start: 10, end: 99, total: null });
    expect(parseContentRange('bytes 99-10/100')).toBeNull();
    expect(parseContentRange('bytes 10-100/100')).toBeNull();
    expect(parseContentRange('items 0-1/2')).toBeNull();
  });
});
