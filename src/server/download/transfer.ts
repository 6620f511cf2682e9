import type { DownloadGrant } from '../../shared/token/download-token.js';
import type { CachedPackage } from './package-cache.js';

/** Where a body goes: a Node ServerResponse or a lean connection's socket. */
export interface BodySink {
  /** Writes a chunk; `done` runs once the kernel has it (never, if the connection dies). */
  write(chunk: Buffer, done: (err?: Error | null) => void): void;
  /** Writes the last chunk, if any, and ends the response. */
  end(chunk?: Buffer): void;
  /** Cuts the connection: a stalled or failed download. */
  destroy(): void;
}

/**
 * One admitted download: a response carrying (part of) a package body. It holds a slot of
 * the server-wide and per-package caps from admission until the service is told it ended.
 */
export class Transfer {
  /** Body bytes handed to the operating system so far (exact once the response finished). */
  bytes = 0;
  /** performance.now() of the last progress; the stall watchdog reads it. */
  lastProgressMs: number;
  /** The response ended, finished or cut: senders stop. */
  closed = false;
  /** Set by the transport before the body is sent. */
  sink: BodySink | undefined;
  /** Set by a body sender holding resources (an open file) to free them on a cut. */
  onCut: (() => void) | undefined;
  /** The stall watchdog's list links. */
  watched = false;
  watchPrev: Transfer | undefined;
  watchNext: Transfer | undefined;

  constructor(
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
