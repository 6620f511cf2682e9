import type { Registry } from 'prom-client';

import type { DownloadGrant, TokenKeyring } from '../../shared/token/download-token.js';
import type { PackageCacheOptions, ResolvedPackage } from './package-cache.js';

/** The end of one download response, for accounting per device and per action. */
export interface DownloadProgress {
  readonly grant: DownloadGrant;
  /** Body bytes handed to the network by this response (all of them when it finished). */
  readonly bytes: number;
  /**
   * True once the device has received every byte of the package: a whole 200 that finished,
   * or the ranged response that completed the pieces of earlier ones. Once per pass.
   */
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

/** Everything the download path needs from the rest of the server. */
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
