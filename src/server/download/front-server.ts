import type { Server as HttpServer } from 'node:http';
import { Server as NetServer } from 'node:net';

import { HEADERS_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS } from '../net/http-timeouts.js';
import { isTcpHandle, libuvStreams } from '../net/libuv-stream.js';
import type { DownloadService } from './download-service.js';
import { LeanConnection, type LeanSettings } from './lean-connection.js';
import { RawWire } from './raw-wire.js';
import { SocketWire } from './socket-wire.js';

export interface FrontServerOptions {
  /** Idle time allowed on a kept-alive connection between requests (ms, default 5000). */
  readonly keepAliveTimeoutMs?: number;
  /** Time allowed to receive one request head (ms, default 20 000). */
  readonly headersTimeoutMs?: number;
  /** Largest request head answered here (bytes, default 8192); larger ones go to Node. */
  readonly maxHeadBytes?: number;
  /**
   * Drive connections through Node's bare TCP handles instead of `net.Socket`s (default true;
   * ignored where this Node does not offer them). See src/server/net/libuv-stream.ts.
   */
  readonly rawHandles?: boolean;
}

/**
 * The TCP front of the HTTP port. A plain download request (GET or HEAD of /d/<token>, no
 * body, nothing unusual: see request-head-parser.ts) is answered on a lean path: the head is
 * parsed once, the response head is mostly prebuilt text, and a small body leaves in one
 * write together with it. Node's HTTP machinery costs about as much per request as the rest
 * of a download; nginx-like throughput needs it out of the way. Any other connection, and
 * any connection at the first request the lean path does not take, goes to `httpServer`
 * with every byte read so far put back, so the API, the console and unusual requests are
 * served by Node (and by the download handler there) exactly as without this front.
 *
 * Connections are accepted as bare libuv handles (raw-wire.ts) where Node offers them: a
 * device opens a connection per download, and a `net.Socket` per connection costs about
 * as much CPU as the download. A handed-over connection becomes a `net.Socket` then.
 */
export class FrontServer extends NetServer {
  readonly #connections = new Set<LeanConnection>();

  constructor(service: DownloadService, httpServer: HttpServer, options: FrontServerOptions = {}) {
    const settings: LeanSettings = {
      keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? KEEP_ALIVE_TIMEOUT_MS,
      headersTimeoutMs: options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS,
      maxHeadBytes: options.maxHeadBytes ?? 8192,
    };
    // Half-open: the client's FIN reaches the connection, which answers what it has read
    // before closing (the raw wire behaves so too).
    super({ noDelay: true, allowHalfOpen: true }, (socket) => {
      const c = new LeanConnection(service, httpServer, settings, this.#connections);
      c.attach(new SocketWire(socket, c));
    });
    const streams = options.rawHandles === false ? undefined : libuvStreams;

    // One sweep for every connection's timeouts instead of a timer per socket, which Node
    // would re-arm on every read and write.
    // It runs until the server is closed and its last connection is gone: net.Server counts
    // only the net.Sockets it made, so 'close' may come while bare-handle connections live on.
    const every = Math.max(50, Math.min(1000, settings.keepAliveTimeoutMs / 4));
    const sweeper = setInterval(() => {
      if (!this.listening && this.#connections.size === 0) return clearInterval(sweeper);
      const now = Date.now();
      for (const c of this.#connections) c.checkTimeouts(now);
    }, every);
    sweeper.unref();

    // Node's HTTP server starts checking its headers and request timeouts when it emits
    // 'listening'. It does not listen itself here, so it is told when we do; without it a
    // handed-over connection could trickle a request head forever.
    this.on('listening', () => {
      if (!httpServer.listening) httpServer.emit('listening');

      // Accept connections as bare handles: what net.Server does on accept, without the
      // net.Socket. Errors of accept() itself (out of file descriptors) are retried by libuv.
      const listener = (this as unknown as { _handle?: ListenHandle | null })._handle;
      if (streams === undefined || typeof listener?.onconnection !== 'function') return;
      listener.onconnection = (status: number, handle: unknown) => {
        if (status !== 0 || !isTcpHandle(handle)) return;
        const c = new LeanConnection(service, httpServer, settings, this.#connections);
        c.attach(new RawWire(handle, streams, c));
      };
    });
  }

  /** Ends the connections still served here; handed-over ones belong to the HTTP server. */
  closeAllConnections(): void {
    for (const c of this.#connections) c.wire.destroy();
  }
}

export function createFrontServer(
  service: DownloadService,
  httpServer: HttpServer,
  options?: FrontServerOptions,
): FrontServer {
  return new FrontServer(service, httpServer, options);
}

type ListenHandle = { onconnection?: (status: number, handle: unknown) => void };
