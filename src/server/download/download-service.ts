import { performance } from 'node:perf_hooks';

import { verifyDownloadToken, type DownloadGrant } from '../../shared/token/download-token.js';
import { CompletionTracker } from './completion-tracker.js';
import { ifMatchPasses, ifRangeMatches, noneMatchHits } from './conditional-request.js';
import type { DownloadDeps } from './download-deps.js';
import { DownloadStats, registerDownloadMetrics } from './download-metrics.js';
import { TOKEN_REFUSAL_CODES, type DownloadRefusal } from './download-refusals.js';
import { PackageCache, type CachedPackage } from './package-cache.js';
import { parseRangeHeader, WHOLE, type ByteRange } from './range-header.js';
import { ChunkPool, sendFileBody, sendMemoryBody } from './send-body.js';
import { StallWatchdog } from './stall-watchdog.js';
import { Transfer } from './transfer.js';

/** What the download path reads of a request, whichever transport parsed it. */
export interface DownloadRequest {
  readonly method: string;
  /** The request-target: `/d/<token>`, maybe with a query. */
  readonly target: string;
  readonly range: string | undefined;
  readonly ifRange: string | undefined;
  readonly ifMatch: string | undefined;
  readonly ifNoneMatch: string | undefined;
}

/** The answer, for a transport to write. */
export type Decision =
  | {
      readonly kind: 'refuse';
      readonly code: DownloadRefusal;
      readonly extra?: Readonly<Record<string, string>>;
    }
  | { readonly kind: 'not_modified'; readonly pkg: CachedPackage }
  /** HEAD: the headers of a whole-body GET, no body. */
  | { readonly kind: 'head'; readonly pkg: CachedPackage }
  /** A body to send; the transport must call `ended` exactly once for it. */
  | { readonly kind: 'body'; readonly transfer: Transfer };

const ALLOW = Object.freeze({ Allow: 'GET, HEAD' });
const TOKEN_START = '/d/'.length;

/**
 * The download path without its transport: checks the token, the device and the package,
 * evaluates preconditions and Range, admits the download under the caps, sends bodies and
 * accounts for them. Synchronous whenever the package is cached and revocation answers
 * synchronously, so a hot request allocates a handful of small objects and no promise.
 */
export class DownloadService {
  readonly stats = new DownloadStats();
  readonly cache: PackageCache;
  readonly watchdog: StallWatchdog;
  readonly #deps: DownloadDeps;
  readonly #completions = new CompletionTracker();
  readonly #pool = new ChunkPool(128 * 1024, 64);
  readonly #overloaded: Decision;
  readonly #refusals = new Map<DownloadRefusal, Decision>();

  constructor(deps: DownloadDeps) {
    this.#deps = deps;
    this.cache = new PackageCache({ ...deps.cache, resolve: (id) => deps.resolvePackage(id) });
    this.watchdog = new StallWatchdog(deps.limits.stallTimeoutMs ?? 30_000, (t) =>
      t.sink?.destroy(),
    );
    const retryAfter = { 'Retry-After': String(deps.limits.retryAfterSeconds) };
    this.#overloaded = { kind: 'refuse', code: 'overloaded', extra: retryAfter };
    if (deps.registry) {
      registerDownloadMetrics(deps.registry, this.stats, () => this.cache.memoryUsed);
    }
  }

  decide(req: DownloadRequest): Decision | Promise<Decision> {
    const head = req.method === 'HEAD';
    if (!head && req.method !== 'GET') return this.#refuse('method_not_allowed', undefined, ALLOW);

    // The token runs to the end of the path; a query string is ignored.
    const { target } = req;
    if (!target.startsWith('/d/')) return this.#refuse('not_found');
    const query = target.indexOf('?', TOKEN_START);
    const token = query < 0 ? target.slice(TOKEN_START) : target.slice(TOKEN_START, query);

    const now = Math.floor(this.#deps.nowMs() / 1000);
    const check = verifyDownloadToken(token, this.#deps.keyring, now, this.#deps.skewSeconds);
    if (!check.ok) return this.#refuse(TOKEN_REFUSAL_CODES[check.reason]);

    const grant = check.grant;
    const revoked = this.#deps.isDeviceRevoked(grant.deviceRowId);
    if (revoked === false) return this.#withPackage(req, grant, head);
    if (revoked === true) return this.#refuse('device_revoked', grant);
    return revoked
      .then((yes) =>
        yes ? this.#refuse('device_revoked', grant) : this.#withPackage(req, grant, head),
      )
      .catch((err: unknown) => this.#fail(err, grant));
  }

  /** Sends the body of an admitted download into its sink. */
  sendBody(t: Transfer): void {
    const { pkg } = t;
    if (pkg.body !== undefined) return sendMemoryBody(t, pkg.body);
    sendFileBody(t, pkg.filePath, this.#pool, (err) => {
      this.#deps.log.error({ err, packageId: pkg.id }, 'download read failed');
      t.sink?.destroy();
    });
  }

  /**
   * A download's response ended: `finished` when every byte reached the kernel, false when
   * the connection was cut. Frees its slots and accounts for it.
   */
  ended(t: Transfer, finished: boolean): void {
    if (t.closed) return;
    t.closed = true;
    if (!finished) t.onCut?.();
    this.stats.inFlight--;
    t.pkg.inFlight--;
    this.watchdog.forget(t);

    const bytes = finished ? t.length : t.bytes;
    this.stats.bytesSent += bytes;
    const complete =
      (finished && t.status === 200) ||
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

  #withPackage(req: DownloadRequest, grant: DownloadGrant, head: boolean) {
    const pkg = this.cache.get(grant.packageId);
    if (pkg !== undefined) return this.#preconditions(req, grant, pkg, head);
    return this.cache
      .load(grant.packageId)
      .then((loaded) =>
        loaded
          ? this.#preconditions(req, grant, loaded, head)
          : this.#refuse('package_not_found', grant),
      )
      .catch((err: unknown) => this.#fail(err, grant));
  }

  /** Preconditions in the order of RFC 9110 §13.2.2, then Range, then admission. */
  #preconditions(
    req: DownloadRequest,
    grant: DownloadGrant,
    pkg: CachedPackage,
    head: boolean,
  ): Decision {
    if (req.ifMatch !== undefined && !ifMatchPasses(req.ifMatch, pkg.etag)) {
      return this.#refuse('precondition_failed', grant);
    }
    if (req.ifNoneMatch !== undefined && noneMatchHits(req.ifNoneMatch, pkg.etag)) {
      return { kind: 'not_modified', pkg };
    }
    // Same headers as a GET without Range (§9.3.2); Range is defined for GET only (§14.2).
    if (head) return { kind: 'head', pkg };

    let range: ByteRange = WHOLE;
    if (req.range !== undefined) {
      if (req.ifRange === undefined || ifRangeMatches(req.ifRange, pkg.etag)) {
        range = parseRangeHeader(req.range, pkg.size);
      }
    }
    if (range.kind === 'unsatisfiable') {
      const contentRange = { 'Content-Range': `bytes */${pkg.size}` };
      return this.#refuse('range_not_satisfiable', grant, contentRange);
    }
    return this.#admit(grant, pkg, range);
  }

  #admit(grant: DownloadGrant, pkg: CachedPackage, range: ByteRange): Decision {
    const { maxInFlight, maxInFlightPerPackage } = this.#deps.limits;
    const serverFull = this.stats.inFlight >= maxInFlight;
    if (serverFull || pkg.inFlight >= maxInFlightPerPackage) {
      if (serverFull) this.stats.overloadServer++;
      else this.stats.overloadPackage++;
      this.#log('overloaded', grant, serverFull ? 'server' : 'package');
      return this.#overloaded;
    }

    const partial = range.kind === 'single';
    const start = partial ? range.start : 0;
    const end = partial ? range.end : pkg.size - 1;
    const t = new Transfer(grant, pkg, partial ? 206 : 200, start, end, performance.now());
    this.stats.inFlight++;
    pkg.inFlight++;
    this.watchdog.watch(t);
    return { kind: 'body', transfer: t };
  }

  #refuse(
    code: DownloadRefusal,
    grant?: DownloadGrant,
    extra?: Readonly<Record<string, string>>,
  ): Decision {
    this.#log(code, grant);
    if (extra !== undefined) return { kind: 'refuse', code, extra };
    let decision = this.#refusals.get(code);
    if (decision === undefined) {
      decision = { kind: 'refuse', code };
      this.#refusals.set(code, decision);
    }
    return decision;
  }

  #log(code: DownloadRefusal, grant?: DownloadGrant, cap?: string): void {
    this.stats.refused(code);
    // Never the token: a URL is a credential. The grant's ids are enough to follow up.
    const fields = grant
      ? {
          code,
          cap,
          packageId: grant.packageId,
          deviceRowId: grant.deviceRowId,
          actionId: grant.actionId,
        }
      : { code };
    if (code === 'overloaded') this.#deps.log.warn(fields, 'download refused');
    else if (code !== 'internal') this.#deps.log.info(fields, 'download refused'); // see #fail
  }

  #fail(err: unknown, grant: DownloadGrant): Decision {
    this.#deps.log.error({ err, packageId: grant.packageId }, 'download failed');
    return this.#refuse('internal', grant);
  }
}
