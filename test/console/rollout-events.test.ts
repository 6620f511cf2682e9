import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SseParser, type ServerSentEvent } from '../../web/src/api/sse-parser.js';
import { FIXTURE_TAPK } from '../support/fixture.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

/** `GET /api/v1/rollouts/:id/events`, the console's live feed, read as the console reads it. */
describe('rollout events (server-sent)', () => {
  let server: TestServer;
  let rolloutId: number;

  beforeAll(async () => {
    server = await startTestServer();
    const upload = await fetch(`${server.httpUrl}/api/v1/packages?version=2.0.0&fileName=a.tapk`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${server.token}`,
        'content-type': 'application/octet-stream',
      },
      body: await readFile(FIXTURE_TAPK),
    });
    const pkg = await upload.json();
    await server.api('POST', '/devices', { deviceId: 'sse-1' });
    const rollout = await server.api('POST', '/rollouts', {
      packageId: pkg.id,
      target: { devices: ['sse-1'] },
    });
    expect(rollout.status).toBe(201);
    rolloutId = rollout.body.id;
  });
  afterAll(() => server?.stop());

  const events = (token: string | null, id = rolloutId, signal?: AbortSignal) =>
    fetch(`${server.httpUrl}/api/v1/rollouts/${id}/events`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal,
    });

  it('answers 401 without a token and 404 for an unknown rollout, as JSON', async () => {
    expect((await events(null)).status).toBe(401);
    const missing = await events(server.token, 999_999);
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe('not_found');
  });

  it('sends the rollout at once and again when it changes', async () => {
    const abort = new AbortController();
    const response = await events(server.token, rolloutId, abort.signal);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);

    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    const parser = new SseParser();
    const next = async (): Promise<ServerSentEvent> => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        const [event] = parser.push(value);
        if (event) return event;
      }
    };

    const first = await next();
    expect(first.event).toBe('rollout');
    expect(JSON.parse(first.data)).toMatchObject({ id: rolloutId, status: 'running' });

    await server.api('POST', `/rollouts/${rolloutId}/pause`);
    const second = await next();
    expect(JSON.parse(second.data)).toMatchObject({ id: rolloutId, status: 'paused' });
    abort.abort();
  });

  it('lets the server stop while a stream is open', async () => {
    const response = await events(server.token);
    expect(response.status).toBe(200);
    // afterAll stops the server; a stream left open would make it hang past the hook timeout.
  });
});

describe('SseParser', () => {
  it('joins events split across chunks and skips comments', () => {
    const parser = new SseParser();
    expect(parser.push('retry: 2000\n\n: ping\n\nevent: rollout\ndata: {"a"')).toEqual([]);
    expect(parser.push(':1}\r\n\r\ndata: x\ndata: y\n\n')).toEqual([
      { event: 'rollout', data: '{"a":1}' },
      { event: 'message', data: 'x\ny' },
    ]);
  });
});
