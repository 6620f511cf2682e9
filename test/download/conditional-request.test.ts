import { describe, expect, it } from 'vitest';

import {
  etagFor,
  ifMatchPasses,
  ifRangeMatches,
  noneMatchHits,
} from '../../src/server/download/conditional-request.js';

const etag = etagFor('AB12');

describe('entity-tag preconditions (RFC 9110 §13.1)', () => {
  it('derives a strong, quoted, lowercase ETag from the hash', () => {
    expect(etag).toBe('"ab12"');
  });

  it('matches If-None-Match weakly, in lists, and for *', () => {
    expect(noneMatchHits('"ab12"', etag)).toBe(true);
    expect(noneMatchHits('W/"ab12"', etag)).toBe(true);
    expect(noneMatchHits('"x,y", "ab12"', etag)).toBe(true);
    expect(noneMatchHits(' * ', etag)).toBe(true);
    expect(noneMatchHits('"ab1"', etag)).toBe(false);
    expect(noneMatchHits('ab12', etag)).toBe(false);
    expect(noneMatchHits('"unterminated, "ab12', etag)).toBe(false);
  });

  it('matches If-Match strongly only', () => {
    expect(ifMatchPasses('"zz", "ab12"', etag)).toBe(true);
    expect(ifMatchPasses('*', etag)).toBe(true);
    expect(ifMatchPasses('W/"ab12"', etag)).toBe(false);
  });

  it('honours If-Range only for the same strong ETag, never for a date', () => {
    expect(ifRangeMatches('"ab12"', etag)).toBe(true);
    expect(ifRangeMatches('W/"ab12"', etag)).toBe(false);
    expect(ifRangeMatches('Sat, 10 Apr 2021 02:13:56 GMT', etag)).toBe(false);
  });
});
