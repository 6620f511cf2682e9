import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly range: string | undefined;
  readonly ifRange: string | undefined;
}

/** How the server answers request number `n` (0-based). */
export type Behaviour = (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void;

/** A small HTTP server whose every answer a test scripts; records what the client asked. */
export class PackageServer {
  readonly requests: SeenRequest[] = [];
  readonly #server: http.Server;
  readonly #sockets = new Set<Socket>();
  behaviour: Behaviour;

  private constructor(server: http.Server, behaviour: Behaviour) {
    this.#server = server;
    this.behaviour = behaviour;
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  static async start(behaviour: Behaviour): Promise<PackageServer> {
    let self: PackageServer | null = null;
    const server = http.createServer((req, res) => {
      const n = self!.requests.length;
      self!.requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        range: req.headers.range,
        ifRange: req.headers['if-range'] as string | undefined,
      });
      self!.behaviour(req, res, n);
    });
    self = new PackageServer(server, behaviour);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return self;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** 200 with the whole body and an exact Content-Length, as the Tiota server answers. */
export function sendWhole(res: http.ServerResponse, body: Buffer, etag = '"v1"'): void {
  res.writeHead(200, { 'content-length': body.length, etag, 'accept-ranges': 'bytes' });
  res.end(body);
}

/** Honours `Range: bytes=N-` / `N-M` with a correct 206, else sends the whole body. */
export function sendRanged(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  body: Buffer,
): void {
  const match = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  if (!match) return sendWhole(res, body);
  const start = Number(match[1]);
  const end = match[2] ? Number(match[2]) : body.length - 1;
  if (start >= body.length || end < start) {
    res.writeHead(416, { 'content-range': `bytes */${body.length}` });
    res.end();
    return;
  }
  const part = body.subarray(start, end + 1);
  res.writeHead(206, {
    'content-length': part.length,
    'content-range': `bytes ${start}-${end}/${body.length}`,
    etag: '"v1"',
  });
  res.end(part);
}

/** Announces the whole Content-Length, sends `bytes` of the body, then cuts the connection. */
export function sendCut(res: http.ServerResponse, body: Buffer, bytes: number): void {
  res.writeHead(200, { 'content-length': body.length, etag: '"v1"' });
  res.write(body.subarray(0, bytes), () => {
    setTimeout(() => res.socket?.destroy(), 20);
  });
}
