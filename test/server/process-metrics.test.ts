import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/test-server.js';

/**
 * /metrics keeps the process metrics an operator graphs, but not those that walk every socket
 * on each scrape: at fleet scale a scrape of those stalls device traffic (issue 9).
 */
describe('process metrics', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.close());

  it('exports CPU, memory and event-loop metrics, and none that count handles or open files', async () => {
    const response = await fetch(`${server.httpUrl}/metrics`, {
      headers: { authorization: `Bearer ${server.token}` },
    });
    expect(response.status).toBe(200);
    const names = new Set(
      (await response.text())
        .split('\n')
        .filter((line) => line !== '' && !line.startsWith('#'))
        .map((line) => line.split(/[{ ]/)[0]),
    );
    for (const kept of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect(names).toContain(kept);
    }
    for (const dropped of [
      'process_open_fds',
      'nodejs_active_handles',
      'nodejs_active_resources',
    ]) {
      expect(names).not.toContain(dropped);
    }
  });
});
