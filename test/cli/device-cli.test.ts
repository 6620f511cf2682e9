import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTiota } from '../support/processes.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

/** `tiota device …` as users run it (the compiled CLI; `npm test` builds first). */
describe('tiota device', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.stop());

  const tiota = (...args: string[]) =>
    runTiota(args, { TIOTA_SERVER: server.httpUrl, TIOTA_TOKEN: server.token });

  it('takes tags comma-separated or repeated, and finds devices by part of their id', async () => {
    expect((await tiota('device', 'add', 'Shelf-1', '--tag', 'a,b', '--tag', 'c')).code).toBe(0);
    expect((await tiota('device', 'add', 'shelf-2')).code).toBe(0);
    const shown = JSON.parse((await tiota('device', 'show', 'Shelf-1', '--json')).stdout);
    expect(shown.tags).toEqual(['a', 'b', 'c']);
    const found = JSON.parse((await tiota('device', 'list', '--search', 'SHELF', '--json')).stdout);
    expect(found.devices.map((d: { id: string }) => d.id).sort()).toEqual(['Shelf-1', 'shelf-2']);
  });

  it('refuses a repeated filter it cannot combine, instead of keeping the last', async () => {
    const result = await tiota('device', 'list', '--tag', 'a', '--tag', 'b');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('give --tag once');
  });

  // The error line reaches the terminal too, and server messages echo what was asked.
  it('shows control characters in an error as escapes', async () => {
    const result = await runTiota(['device', 'show', 'x\u001b[31mRED\u0007'], {
      TIOTA_SERVER: server.httpUrl,
      TIOTA_TOKEN: server.token,
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('x\\u001b[31mRED\\u0007');
    expect(result.stderr).not.toContain('\u001b');
    expect(result.stderr).not.toContain('\u0007');
  });
});
