import { createServer } from 'node:http';
import { connect, type Socket } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  FIXTURE_ID,
  FRONT_TRANSPORTS,
  MIB_ID,
  makeFiles,
  sha256,
  startServer,
  waitFor,
  type TestServer,
} from './download-test-server.js';

const { files, removeFiles } = makeFiles();
afterAll(removeFiles);

const fixture = () => files.get(FIXTURE_ID)!;

/** A raw client: writes bytes as given, collects everything the server sends until it closes. */
class RawClient {
  readonly socket: Socket;
  #received = Buffer.alloc(0);
  closed = false;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('data', (c: Buffer) => (this.#received = Buffer.concat([this.#received, c])));
    this.socket.on('close', () => (this.closed = true));
    this.socket.on('error', () => undefined);
  }

  send(text: string): void {
    this.socket.write(text);
  }

  get received(): Buffer {
    return this.#received;
  }

  /** Splits what arrived into responses, using Content-Length. */
  responses(): Array<{ head: string; body: Buffer }> {
    const out: Array<{ head: string; body: Buffer }> = [];
    let buf = this.#received;
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return out;
      const head = buf.subarray(0, end).toString('latin1');
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      const bodyless = / (304|1\d\d) /.test(head.split('\r\n')[0]);
      const size = bodyless ? 0 : length;
      if (buf.length < end + 4 + size) return out;
      out.push({ head, body: buf.subarray(end + 4, end + 4 + size) });
      buf = buf.subarray(end + 4 + size);
    }
  }

  end(): void {
    this.socket.destroy();
  }
}

const get = (path: string, extra = ''): string =>
  `GET ${path} HTTP/1.1\r\nHost: tiota.test\r\n${extra}\r\n`;

describe.each(FRONT_TRANSPORTS)('front server over %s', (transport) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer(files, {}, transport);
  });
  afterAll(() => s.close());

  it('writes header names in their usual case, with exact Content-Length', async () => {
    const c = new RawClient(s.port);
    c.send(get(s.path()));
    await waitFor(() => c.responses().length === 1);

    const [{ head, body }] = c.responses();
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head).toContain(`\r\nContent-Length: ${fixture().size}\r\n`);
    expect(head).toContain('\r\nAccept-Ranges: bytes\r\n');
    expect(head).toMatch(/\r\nDate: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT/);
    expect(head).not.toMatch(/transfer-encoding|content-encoding/i);
    expect(sha256(body)).toBe(fixture().sha256);
    c.end();
  });

  it('answers pipelined downloads in order, and hands the connection to Node at an API call', async () => {
    const c = new RawClient(s.port);
    c.send(
      get(s.path()) +
        get(s.path(), 'Range: bytes=0-9\r\n') +
        get('/api/v1/packages') +
        get(s.path()),
    );
    await waitFor(() => c.responses().length === 4);

    const [whole, part, api, again] = c.responses();
    expect(sha256(whole.body)).toBe(fixture().sha256);
    expect(part.head).toMatch(/^HTTP\/1\.1 206 /);
    expect(part.body.length).toBe(10);
    expect(api.body.toString()).toBe('api GET /api/v1/packages');
    expect(sha256(again.body)).toBe(fixture().sha256); // served by Node now, still right
    c.end();
  });

  it('answers the requests a client sent before its FIN, then closes', async () => {
    const c = new RawClient(s.port);
    c.socket.end(get(s.path()) + get(s.path({ packageId: MIB_ID }))); // half-close after writing
    await waitFor(() => c.closed);

    const [first, second] = c.responses();
    expect(c.responses()).toHaveLength(2);
    expect(sha256(first.body)).toBe(fixture().sha256);
    expect(sha256(second.body)).toBe(files.get(MIB_ID)!.sha256);
  });

  it(`accepts connections ${transport === 'front' ? 'as bare handles, with no net.Socket' : 'as net.Sockets'}`, async () => {
    let sockets = 0;
    const count = () => void sockets++;
    s.front.on('connection', count);
    const c = new RawClient(s.port);
    c.send(get(s.path(), 'Connection: close\r\n'));
    await waitFor(() => c.closed);
    s.front.off('connection', count);

    expect(sha256(c.responses()[0].body)).toBe(fixture().sha256);
    // net.Server announces every net.Socket it makes; on bare handles it makes none.
    expect(sockets).toBe(transport === 'front' ? 0 : 1);
  });

  it('stops answering a client that reads none of its answers, and answers all once it reads', async () => {
    const refused = async () =>
      (await s.registry.metrics())
        .split('\n')
        .filter((l) => l.startsWith('tiota_download_refusals_total{'))
        .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    const before = await refused();
    const n = 100_000; // far more answers (about 25 MB) than the kernel's socket buffers hold
    let answers = 0;
    let tail = '';
    const socket = connect(s.port, '127.0.0.1');
    socket.on('data', (chunk: Buffer) => {
      const text = tail + chunk.toString('latin1');
      answers += text.split('HTTP/1.1 4').length - 1;
      tail = text.slice(-9);
    });
    socket.pause();
    socket.write(get('/d/x').repeat(n)); // a refusal each, a body each

    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect((await refused()) - before).toBeLessThan(n / 2);

    socket.resume();
    await waitFor(() => answers === n, 30_000);
    expect((await refused()) - before).toBe(n);
    socket.destroy();
  });

  it('answers every one of thousands of pipelined requests on many connections, a turn at a time', async () => {
    // ANSWERS_PER_TURN (lean-connection.ts) splits each pipeline over many turns of the event
    // loop; every answer must still arrive on every connection.
    const clients = 20;
    const each = 3000;
    const answeredAll = await Promise.all(
      Array.from({ length: clients }, async (_, i) => {
        const c = new RawClient(s.port);
        const head = (n: number) => `HEAD ${s.path()}?c=${i}&n=${n} HTTP/1.1\r\nHost: x\r\n\r\n`;
        c.send(Array.from({ length: each }, (_, n) => head(n)).join(''));
        // HEAD answers carry Content-Length but no body: count their status lines.
        const answers = () => c.received.toString('latin1').split('HTTP/1.1 200 ').length - 1;
        await waitFor(() => answers() === each, 30_000);
        c.end();
        return answers();
      }),
    );
    expect(answeredAll).toEqual(Array(clients).fill(each));
  });

  it('gives a slow request head on a kept-alive connection the headers timeout', async () => {
    const c = new RawClient(s.port);
    c.send(get(s.path()));
    await waitFor(() => c.responses().length === 1);
    c.send('GET /d/'); // the next request begins, then takes its time
    await new Promise((resolve) => setTimeout(resolve, 3000)); // past keepAliveTimeoutMs (2000)
    expect(c.closed).toBe(false);
    c.send(`${s.path().slice('/d/'.length)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await waitFor(() => c.responses().length === 2);
    expect(sha256(c.responses()[1].body)).toBe(fixture().sha256);
    c.end();
  });

  it('leaves a request whose lines end in a bare LF to Node, which refuses it at once', async () => {
    for (const head of [
      `GET ${s.path()} HTTP/1.1\nHost: x\n\n`,
      `GET ${s.path()} HTTP/1.1\r\nHost: x\r\n\n`,
    ]) {
      const c = new RawClient(s.port);
      const started = Date.now();
      c.send(head);
      await waitFor(() => c.responses().length === 1 || c.closed, 3000);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(c.received.toString('latin1')).toMatch(/^HTTP\/1\.1 400 /);
      c.end();
    }
  });

  it('answers a thousand pipelined requests sent in one write', async () => {
    const c = new RawClient(s.port);
    const head = `HEAD ${s.path()} HTTP/1.1\r\nHost: x\r\n\r\n`;
    c.send(head.repeat(999) + get(s.path(), 'Connection: close\r\n') + head);
    await waitFor(() => c.closed, 10_000);

    const text = c.received.toString('latin1');
    expect(text.match(/HTTP\/1\.1 200 OK/g)?.length).toBe(1000); // none after the close
    expect(c.received.subarray(-fixture().size).equals(fixture().bytes())).toBe(true);
  });

  it('hands a connection that starts with another path to Node', async () => {
    const c = new RawClient(s.port);
    c.send(get('/healthz'));
    await waitFor(() => c.responses().length === 1);
    expect(c.responses()[0].body.toString()).toBe('api GET /healthz');
    c.end();
  });

  it('closes after the response when the client asks, and for HTTP/1.0 by default', async () => {
    const close = new RawClient(s.port);
    close.send(get(s.path(), 'Connection: close\r\n'));
    const old = new RawClient(s.port);
    old.send(`GET ${s.path()} HTTP/1.0\r\n\r\n`);
    const kept = new RawClient(s.port);
    kept.send(`GET ${s.path()} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n`);
    await waitFor(() => close.closed && old.closed && kept.responses().length === 1);

    expect(close.responses()[0].head).toContain('\r\nConnection: close');
    expect(sha256(old.responses()[0].body)).toBe(fixture().sha256);
    expect(kept.responses()[0].head).toContain('\r\nConnection: keep-alive');
    expect(kept.closed).toBe(false);
    kept.end();
  });

  it('leaves requests it does not take to Node, which answers them by the book', async () => {
    const noHost = new RawClient(s.port);
    noHost.send(`GET ${s.path()} HTTP/1.1\r\n\r\n`);
    const huge = new RawClient(s.port);
    huge.send(get(s.path(), `X-Pad: ${'a'.repeat(20_000)}\r\n`));
    const folded = new RawClient(s.port);
    folded.send(`GET ${s.path()} HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1\r\n 2\r\n\r\n`);
    const post = new RawClient(s.port);
    post.send(`POST ${s.path()} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi`);
    await waitFor(() => [noHost, huge, folded, post].every((c) => c.received.length > 0));

    expect(noHost.received.toString()).toMatch(/^HTTP\/1\.1 400 /);
    expect(huge.received.toString()).toMatch(/^HTTP\/1\.1 431 /);
    expect(folded.received.toString()).toMatch(/^HTTP\/1\.1 400 /);
    expect(post.received.toString()).toMatch(/^HTTP\/1\.1 405 /);
    for (const c of [noHost, huge, folded, post]) c.end();
  });

  it('answers HEAD without a body and refusals with their JSON', async () => {
    const c = new RawClient(s.port);
    c.send(`HEAD ${s.path()} HTTP/1.1\r\nHost: x\r\n\r\n` + get('/d/not-a-token'));
    await waitFor(() => c.received.includes('token_malformed'));

    const text = c.received.toString('latin1');
    const [headResponse, refusal] = text.split(/(?=HTTP\/1\.1 )/);
    expect(headResponse).toContain(`Content-Length: ${fixture().size}\r\n`);
    expect(headResponse.endsWith('\r\n\r\n')).toBe(true);
    expect(refusal).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    c.end();
  });

  it("lets Node's HTTP server time out a slow request head it was handed", async () => {
    const httpServer = createServer(
      { headersTimeout: 300, requestTimeout: 300, connectionsCheckingInterval: 50 },
      (_req, res) => res.end(),
    );
    const front = s.handler.createFrontServer(httpServer);
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    try {
      const c = new RawClient((front.address() as { port: number }).port);
      c.send('GET /api/v1/packages HTTP/1.1\r\nHost: x\r\n'); // never finished
      await waitFor(() => c.closed, 3000);
      expect(c.received.toString()).toMatch(/^HTTP\/1\.1 408 /);

      // The same after a download answered on the lean path.
      const d = new RawClient((front.address() as { port: number }).port);
      d.send(get(s.path()) + 'GET /api/v1/packages HTTP/1.1\r\nHost: x\r\n');
      await waitFor(() => d.closed, 3000);
      expect(d.responses()[0].head).toMatch(/^HTTP\/1\.1 200 /);
      expect(d.received.toString()).toContain('HTTP/1.1 408 ');
    } finally {
      httpServer.closeAllConnections();
      httpServer.close();
      front.close();
    }
  });

  it('cuts a download request head that trickles in too slowly', async () => {
    const front = s.handler.createFrontServer(createServer(), { headersTimeoutMs: 300 });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    try {
      const c = new RawClient((front.address() as { port: number }).port);
      c.send(`GET ${s.path()} HTTP/1.1\r\n`);
      const timer = setInterval(() => c.send('X-Slow: 1\r\n'), 100);
      await waitFor(() => c.closed, 3000).finally(() => clearInterval(timer));
      expect(c.received.length).toBe(0);
    } finally {
      front.close();
    }
  });

  it('gives a new connection the headers timeout, not the keep-alive one, for its first request', async () => {
    const front = s.handler.createFrontServer(createServer(), {
      keepAliveTimeoutMs: 200,
      headersTimeoutMs: 3000,
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    try {
      const port = (front.address() as { port: number }).port;
      const late = new RawClient(port);
      await new Promise((resolve) => setTimeout(resolve, 800)); // 4× the keep-alive timeout
      expect(late.closed).toBe(false);
      late.send(get(s.path()));
      await waitFor(() => late.responses().length === 1);
      expect(late.responses()[0].head).toMatch(/^HTTP\/1\.1 200 /);

      const silent = new RawClient(port);
      await waitFor(() => silent.closed, 6000);
      expect(silent.received.length).toBe(0);
    } finally {
      front.close();
    }
  });

  it('drops what a client streams after asking to close, and closes within the idle timeout', async () => {
    // Half-open: the client keeps its side open after the server's FIN and goes on writing.
    const socket = connect({ port: s.port, host: '127.0.0.1', allowHalfOpen: true });
    let received = Buffer.alloc(0);
    let gone = false;
    socket.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
    socket.on('error', () => undefined);
    socket.on('close', () => (gone = true));
    socket.write(get(s.path(), 'Connection: close\r\n') + 'x'.repeat(1000));
    const junk = setInterval(() => socket.writable && socket.write('y'.repeat(64 * 1024)), 20);
    try {
      await waitFor(() => gone, 6000); // keepAliveTimeoutMs is 2000 in the test server
    } finally {
      clearInterval(junk);
      socket.destroy();
    }
    expect(received.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  });

  it('closes idle keep-alive connections', async () => {
    const c = new RawClient(s.port); // keepAliveTimeoutMs is 2000 in the test server
    c.send(get(s.path()));
    await waitFor(() => c.closed, 6000);
    expect(c.responses().length).toBe(1);
  });

  it('still times out idle connections after the server stopped listening', async () => {
    const t = await startServer(files, {}, transport);
    const c = new RawClient(t.port);
    c.send(get(t.path()));
    await waitFor(() => c.responses().length === 1);

    t.front.close(); // stops accepting; the kept-alive connection is left to its timeout
    await waitFor(() => c.closed, 6000); // keepAliveTimeoutMs is 2000 in the test server
    await t.close();
  });

  it('counts a download cut mid-body once, as not complete', async () => {
    s.events.length = 0;
    const c = new RawClient(s.port);
    c.socket.pause(); // never reads: the 64 MiB body fills the socket buffers, then we cut
    c.send(get(s.path({ packageId: 3 })));
    await new Promise((resolve) => setTimeout(resolve, 200));
    c.end();
    await waitFor(() => s.events.length === 1);

    expect(s.events[0].complete).toBe(false);
    expect(s.events[0].bytes).toBeLessThan(64 * 1024 * 1024);
    expect(s.handler.inFlight).toBe(0);
  });
});
