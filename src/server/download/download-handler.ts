import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';

import type { DownloadDeps } from './download-deps.js';
import { DOWNLOAD_REFUSALS, REFUSAL_HEADERS, refusalBody } from './download-refusals.js';
import { createFrontServer, type FrontServer, type FrontServerOptions } from './front-server.js';
import { DownloadService, type Decision } from './download-service.js';
import type { BodySink, Transfer } from './transfer.js';

export type {
  DownloadDeps,
  DownloadLimits,
  DownloadLog,
  DownloadProgress,
} from './download-deps.js';

export interface DownloadHandler {
  /**
   * Node request listener for `GET|HEAD /d/<token>` (bound: pass it as is). Use it for
   * requests that reach Node's HTTP server; the front server sends the rest its own way.
   */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * A TCP server to listen with instead of `httpServer`: it answers plain download requests
   * itself, with a lean HTTP/1.1 path, and hands every other connection (and any request it
   * does not fully understand) to `httpServer` unchanged. `httpServer` need not listen.
   */
  createFrontServer(httpServer: HttpServer, options?: FrontServerOptions): FrontServer;
  /** Forget a package (deleted or replaced); its URLs answer 404 from the next request. */
  invalidatePackage(packageId: number): void;
  /** Downloads being sent now. */
  readonly inFlight: number;
  /** Stops the stall watchdog's timer (downloads in progress are left to finish). */
  close(): void;
}

/**
 * Builds the download path. Wiring, in the server:
 *
 * ```ts
 * const downloads = createDownloadHandler({ keyring, nowMs: Date.now, skewSeconds: 60, … });
 * const app = Fastify({
 *   serverFactory: (fastifyHandler) =>
 *     http.createServer((req, res) =>
 *       req.url?.startsWith('/d/') ? downloads.handle(req, res) : fastifyHandler(req, res),
 *     ),
 * });
 * await app.ready();
 * const front = downloads.createFrontServer(app.server);
 * front.listen(config.httpPort, config.httpHost); // instead of app.listen()
 * // stopping: front.close(); front.closeAllConnections(); await app.close(); downloads.close();
 * ```
 */
export function createDownloadHandler(deps: DownloadDeps): DownloadHandler {
  const service = new DownloadService(deps);
  return {
    handle: (req, res) => handleHttp(service, req, res),
    createFrontServer: (httpServer, options) => createFrontServer(service, httpServer, options),
    invalidatePackage: (id) => service.cache.invalidate(id),
    get inFlight() {
      return service.stats.inFlight;
    },
    close: () => service.watchdog.stop(),
  };
}

function handleHttp(service: DownloadService, req: IncomingMessage, res: ServerResponse): void {
  const h = req.headers;
  const decision = service.decide({
    method: req.method ?? '',
    target: req.url ?? '',
    range: h.range,
    // Node joins repeated headers it does not know into one string; only set-cookie is a list.
    ifRange: h['if-range'] as string | undefined,
    ifMatch: h['if-match'],
    ifNoneMatch: h['if-none-match'],
  });
  if (!(decision instanceof Promise)) return writeDecision(service, res, decision);
  decision.then((d) => writeDecision(service, res, d));
}

function writeDecision(service: DownloadService, res: ServerResponse, d: Decision): void {
  if (res.destroyed) {
    if (d.kind === 'body') service.ended(d.transfer, false);
    return;
  }
  switch (d.kind) {
    case 'refuse': {
      const body = refusalBody(d.code);
      res.writeHead(DOWNLOAD_REFUSALS[d.code].status, {
        ...REFUSAL_HEADERS,
        'Content-Length': String(body.length),
        ...d.extra,
      });
      return void res.end(body); // Node drops the body of a HEAD response
    }
    case 'not_modified':
      res.writeHead(304, { ETag: d.pkg.etag, 'Cache-Control': d.pkg.fullHeaders['Cache-Control'] });
      return void res.end();
    case 'head':
      res.writeHead(200, d.pkg.fullHeaders);
      return void res.end();
    case 'body':
      return sendHttpBody(service, res, d.transfer);
  }
}

function sendHttpBody(service: DownloadService, res: ServerResponse, t: Transfer): void {
  t.sink = new ResponseSink(res);
  res.once('close', () => service.ended(t, res.writableFinished));
  if (t.status === 206) {
    res.writeHead(206, {
      ...t.pkg.fullHeaders,
      'Content-Length': String(t.length),
      'Content-Range': `bytes ${t.start}-${t.end}/${t.pkg.size}`,
    });
  } else {
    res.writeHead(200, t.pkg.fullHeaders);
  }
  service.sendBody(t);
}

class ResponseSink implements BodySink {
  constructor(readonly res: ServerResponse) {}

  write(chunk: Buffer, done: (err?: Error | null) => void): void {
    this.res.write(chunk, done);
  }

  end(chunk?: Buffer): void {
    this.res.end(chunk);
  }

  destroy(): void {
    this.res.destroy();
  }
}
