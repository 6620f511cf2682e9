import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';

import type { Registry } from 'prom-client';

import {
  verifyDownloadToken,
  type DownloadGrant,
  type TokenKeyring,
} from '../../shared/token/download-token.js';
import { CompletionTracker } from './completion-tracker.js';
import { ifMatchPasses, ifRangeMatches, noneMatchHits } from './conditional-request.js';
import { DownloadStats, registerDownloadMetrics } from './download-metrics.js';
import { sendRefusal, TOKEN_REFUSAL_CODES, type DownloadRefusal } from './download-refusals.js';
import {
  PackageCache,
  type CachedPackage,
  type PackageCacheOptions,
  type ResolvedPackage,
} from './package-cache.js';
import { parseRangeHeader, WHOLE, type ByteRange } from './range-header.js';
import { ChunkPool, sendFileBody, sendMemoryBody } from './send-body.js';
import { StallWatchdog } from './stall-watchdog.js';
import { Transfer } from './transfer.js';

/** The end of one download response, for accounting per device and per action. */
export interface DownloadProgress {
  readonly grant: DownloadGrant;
  /** Body bytes handed to the network by this response (all of them when it finished). */
  readonly bytes: number;
  /** True once the device has received every byte of the package (at most once per pass). */
  readonly complete: boolean;
  /** 200 or 206. */
  readonly status: number;
}

export interface DownloadLimits {
  /** Downloads in flight server-wide; one more is answered 503. */
  readonly maxInFlight: number;
  /** Downloads of one package in flight; one more is answered 503. */
  readonly maxInFlightPerPackage: number;
  /** Seconds, sent as Retry-After with every 503. */
  readonly retryAfterSeconds: number;
  /** A download without progress for this long is cut, freeing its slot (ms, default 30 000). */
  readonly stallTimeoutMs?: number;
}

/** The few pino methods used; a pino Logger fits. */
export interface DownloadLog {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

export interface DownloadDeps {
  readonly keyring: TokenKeyring;
  /** Clock for token validity (ms); tests move it. */
  nowMs(): number;
  /** Allowed lead of a replica's clock over ours, applied to not-before only (seconds). */
  readonly skewSeconds: number;
  /** The stored package, or undefined when it does not exist (404). Results are cached. */
  resolvePackage(packageId: number): Promise<ResolvedPackage | undefined>;
  /** Called on every request: keep it an in-memory lookup; a promise costs a tick. */
  isDeviceRevoked(deviceRowId: number): boolean | Promise<boolean>;
  /** Called when a download response ends; must not throw (errors are logged). */
  onProgress?(event: DownloadProgress): void;
  readonly limits: DownloadLimits;
  /** In-memory cache of small packages; see PackageCacheOptions for defaults. */
  readonly cache?: Omit<PackageCacheOptions, 'resolve'>;
  readonly log: DownloadLog;
  /** Where the download metrics are registered; none when omitted. */
  readonly registry?: Registry;
}

export interface DownloadHandler {
  /** Node request listener for `GET|HEAD /d/<token>` (bound: pass it as is). */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;
  /** Forget a package (deleted or replaced); its URLs answer 404 from the next request. */
  invalidatePackage(packageId: number): void;
  /** Downloads being sent now. */
  readonly inFlight: number;
  /** Stops the stall watchdog's timer (downloads in progress are left to finish). */
  close(): void;
}

const ALLOW = { Allow: 'GET, HEAD' } as const;
const TOKEN_START = '/d/'.length;

export function createDownloadHandler(deps: DownloadDeps): DownloadHandler {
  const service = new DownloadService(deps);
  return {
    handle: (req, res) => service.handle(req, res),
    invalidatePackage: (id) => service.cache.invalidate(id),
    get inFlight() {
      return service.stats.inFlight;
    },
    close: () => service.watchdog.stop(),
  };
}

class DownloadService {
  readonly stats = new DownloadStats();
  readonly cache: PackageCache;
  readonly watchdog: StallWatchdog;
  readonly #deps: DownloadDeps;
  readonly #completions = new CompletionTracker();
  readonly #pool = new ChunkPool(128 * 1024, 64);
  readonly #retryAfter: Readonly<Record<string, string>>;

  constructor(deps: DownloadDeps) {
    this.#deps = deps;
    this.cache = new PackageCache({ ...deps.cache, resolve: (id) => deps.resolvePackage(id) });
    this.watchdog = new StallWatchdog(deps.limits.stallTimeoutMs ?? 30_000, (t) => t.res.destroy());
    this.#retryAfter = { 'Retry-After': String(deps.limits.retryAfterSeconds) };
    if (deps.registry) {
      registerDownloadMetrics(deps.registry, this.stats, () => this.cache.memoryUsed);
    }
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const head = req.method === 'HEAD';
    if (!head && req.method !== 'GET') return this.#refuse(res, 'method_not_allowed', head, ALLOW);

    // The token runs to the end of the path; a query string is ignored.
    const url = req.url ?? '';
    const query = url.indexOf('?', TOKEN_START);
    if (!url.startsWith('/d/')) return this.#refuse(res, 'not_found', head);
    const token = query < 0 ? url.slice(TOKEN_START) : url.slice(TOKEN_START, query);

    const { keyring, skewSeconds } = this.#deps;
    const now = Math.floor(this.#deps.nowMs() / 1000);
    const check = verifyDownloadToken(token, keyring, now, skewSeconds);
    if (!check.ok) return this.#refuse(res, TOKEN_REFUSAL_CODES[check.reason], head);

    const grant = check.grant;
    const revoked = this.#deps.isDeviceRevoked(grant.deviceRowId);
    if (revoked === false) return this.#withPackage(req, res, grant, head);
    if (revoked === true) return this.#refuse(res, 'device_revoked', head, undefined, grant);
    revoked.then(
      (yes) =>
        yes
          ? this.#refuse(res, 'device_revoked', head, undefined, grant)
          : this.#withPackage(req, res, grant, head),
      (err: unknown) => this.#fail(res, err, grant),
    );
  }

  #withPackage(req: IncomingMessage, res: ServerResponse, grant: DownloadGrant, head: boolean) {
    const pkg = this.cache.get(grant.packageId);
    if (pkg !== undefined) return this.#respond(req, res, grant, pkg, head);

    this.cache.load(grant.packageId).then(
      (loaded) =>
        loaded
          ? this.#respond(req, res, grant, loaded, head)
          : this.#refuse(res, 'package_not_found', head, undefined, grant),
      (err: unknown) => this.#fail(res, err, grant),
    );
  }

  /** Preconditions in the order of RFC 9110 §13.2.2, then admission, then the body. */
  #respond(
    req: IncomingMessage,
    res: ServerResponse,
    grant: DownloadGrant,
    pkg: CachedPackage,
    head: boolean,
  ): void {
    if (res.destroyed) return;
    const h = req.headers;
    const ifMatch = h['if-match'];
    if (ifMatch !== undefined && !ifMatchPasses(ifMatch, pkg.etag)) {
      return this.#refuse(res, 'precondition_failed', head, undefined, grant);
    }
    const ifNoneMatch = h['if-none-match'];
    if (ifNoneMatch !== undefined && noneMatchHits(ifNoneMatch, pkg.etag)) {
      res.writeHead(304, { ETag: pkg.etag, 'Cache-Control': pkg.fullHeaders['Cache-Control'] });
      return void res.end();
    }
    if (head) {
      // Same headers as a GET without Range (§9.3.2); Range is defined for GET only (§14.2).
      res.writeHead(200, pkg.fullHeaders);
      return void res.end();
    }

    let range: ByteRange = WHOLE;
    if (h.range !== undefined) {
      // Node joins repeated headers it does not know into one string; only set-cookie is a list.
      const ifRange = h['if-range'] as string | undefined;
      if (ifRange === undefined || ifRangeMatches(ifRange, pkg.etag)) {
        range = parseRangeHeader(h.range, pkg.size);
      }
    }
    if (range.kind === 'unsatisfiable') {
      const contentRange = { 'Content-Range': `bytes */${pkg.size}` };
      return this.#refuse(res, 'range_not_satisfiable', head, contentRange, grant);
    }

    const { maxInFlight, maxInFlightPerPackage } = this.#deps.limits;
    if (this.stats.inFlight >= maxInFlight || pkg.inFlight >= maxInFlightPerPackage) {
      const serverFull = this.stats.inFlight >= maxInFlight;
      if (serverFull) this.stats.overloadServer++;
      else this.stats.overloadPackage++;
      const cap = serverFull ? 'server' : 'package';
      return this.#refuse(res, 'overloaded', head, this.#retryAfter, grant, cap);
    }
    this.#start(res, grant, pkg, range);
  }

  #start(res: ServerResponse, grant: DownloadGrant, pkg: CachedPackage, range: ByteRange) {
    const partial = range.kind === 'single';
    const start = partial ? range.start : 0;
    const end = partial ? range.end : pkg.size - 1;
    const t = new Transfer(res, grant, pkg, partial ? 206 : 200, start, end, performance.now());

    this.stats.inFlight++;
    pkg.inFlight++;
    this.watchdog.watch(t);
    res.once('close', () => this.#end(t));

    if (partial) {
      res.writeHead(206, {
        ...pkg.fullHeaders,
        'Content-Length': String(t.length),
        'Content-Range': `bytes ${start}-${end}/${pkg.size}`,
      });
    } else {
      res.writeHead(200, pkg.fullHeaders);
    }
    if (pkg.body !== undefined) return sendMemoryBody(t, pkg.body);
    sendFileBody(t, pkg.filePath, this.#pool, (err) => {
      this.#deps.log.error({ err, packageId: pkg.id }, 'download read failed');
      res.destroy();
    });
  }

  /** A download response closed, finished or cut: free its slots and account for it. */
  #end(t: Transfer): void {
    t.closed = true;
    this.stats.inFlight--;
    t.pkg.inFlight--;
    this.watchdog.forget(t);

    const finished = t.res.writableFinished;
    const bytes = finished ? t.length : t.bytes;
    this.stats.bytesSent += bytes;
    const whole = finished && t.status === 200;
    const complete =
      whole ||
      (bytes > 0 && this.#completions.add(t.grant, t.pkg.size, t.start, t.start + bytes - 1));
    if (complete) this.stats.completed++;

    const { onProgress } = this.#deps;
    if (onProgress === undefined) return;
    try {
      onProgress({ grant: t.grant, bytes, complete, status: t.status });
    } catch (err) {
      this.#deps.log.error({ err, packageId: t.pkg.id }, 'download accounting failed');
    }
  }

  #refuse(
    res: ServerResponse,
    code: DownloadRefusal,
    head: boolean,
    extra?: Readonly<Record<string, string>>,
    grant?: DownloadGrant,
    cap?: string,
  ): void {
    if (res.headersSent || res.destroyed) return;
    this.stats.refused(code);
    const fields = grant
      ? { code, cap, packageId: grant.packageId, deviceRowId: grant.deviceRowId }
      : { code };
    if (code === 'overloaded') this.#deps.log.warn(fields, 'download refused');
    else this.#deps.log.info(fields, 'download refused');
    sendRefusal(res, code, head, extra);
  }

  #fail(res: ServerResponse, err: unknown, grant: DownloadGrant): void {
    this.#deps.log.error({ err, packageId: grant.packageId }, 'download failed');
    if (!res.headersSent) this.#refuse(res, 'internal', false, undefined, grant);
    else res.destroy();
  }
}
