import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEADERS_TIMEOUT_MS } from '../../src/server/net/http-timeouts.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

/** Sends `text` and resolves with what came back and when the server closed, ms after. */
function sendAndWaitForClose(port: number, text: string): Promise<{ reply: string; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    let reply = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    socket.on('data', (chunk: Buffer) => (reply += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ reply, ms: Date.now() - started }));
  });
}

describe('head timeouts of the HTTP port', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.close());

  it('cuts a slow API request head after the same 20 s as a download head, not Node’s 60 s', async () => {
    const port = Number(new URL(server.httpUrl).port);
    const [api, download] = await Promise.all([
      sendAndWaitForClose(port, 'GET /api/v1/pack'), // handed to Node's HTTP server
      sendAndWaitForClose(port, 'GET /d/AAAA'), // kept by the download front
    ]);
    expect(api.reply).toMatch(/^(HTTP\/1\.1 408 |$)/);
    for (const { ms } of [api, download]) {
      expect(ms).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100);
      expect(ms).toBeLessThan(HEADERS_TIMEOUT_MS + 3_000);
    }
  }, 30_000);
});
