import type { ServerResponse } from 'node:http';

import type { DownloadGrant } from '../../shared/token/download-token.js';
import type { CachedPackage } from './package-cache.js';

/**
 * One admitted download: a response carrying (part of) a package body. It holds a slot of
 * the server-wide and per-package caps from admission until the response closes.
 */
export class Transfer {
  /** Body bytes handed to the operating system so far (exact once the response finished). */
  bytes = 0;
  /** performance.now() of the last progress; the stall watchdog reads it. */
  lastProgressMs: number;
  /** The response closed (finished or cut): senders stop and free what they hold. */
  closed = false;

  constructor(
    readonly res: ServerResponse,
    readonly grant: DownloadGrant,
    readonly pkg: CachedPackage,
    readonly status: 200 | 206,
    /** First body byte, inclusive. */
    readonly start: number,
    /** Last body byte, inclusive (start - 1 for an empty package). */
    readonly end: number,
    nowMs: number,
  ) {
    this.lastProgressMs = nowMs;
  }

  get length(): number {
    return this.end - this.start + 1;
  }

  progressed(bytes: number, nowMs: number): void {
    this.bytes += bytes;
    this.lastProgressMs = nowMs;
  }
}
