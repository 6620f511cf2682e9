import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERRORS, TiotaError, type ErrorCode } from '../../src/server/errors.js';
import { REPO_ROOT } from '../support/fixture.js';

/** STYLE (errors): one catalogue, each code documented; this keeps the two in step. */
describe('error catalogue', () => {
  async function documented(): Promise<Map<string, number>> {
    const text = await readFile(path.join(REPO_ROOT, 'docs/api-errors.md'), 'utf8');
    const rows = [...text.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)];
    return new Map(rows.map((m) => [m[1], Number(m[2])]));
  }

  it('documents every code in docs/api-errors.md with its status', async () => {
    const docs = await documented();
    const missing = Object.keys(ERRORS).filter((code) => !docs.has(code));
    expect(missing).toEqual([]);
    for (const [code, { status }] of Object.entries(ERRORS))
      expect(docs.get(code), code).toBe(status);
  });

  it('documents no code the catalogue does not have', async () => {
    const extra = [...(await documented()).keys()].filter((code) => !(code in ERRORS));
    expect(extra).toEqual([]);
  });

  it('gives every code a 4xx or 5xx status and a message', () => {
    for (const [code, { status, message }] of Object.entries(ERRORS)) {
      expect(status, code).toBeGreaterThanOrEqual(400);
      expect(status, code).toBeLessThan(600);
      expect(message.length, code).toBeGreaterThan(0);
      expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
    }
  });

  it('fills message templates in order and keeps the status on the error', () => {
    const error = new TiotaError('not_found' satisfies ErrorCode, 'device d-1');
    expect([error.status, error.message]).toEqual([404, 'device d-1 not found']);
    const limited = TiotaError.tooManyRequests(42);
    expect(limited.headers).toEqual({ 'retry-after': '42' });
    expect(limited.message).toContain('42 seconds');
  });
});
