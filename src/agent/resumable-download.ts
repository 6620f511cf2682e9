import { constants, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { Agent as HttpAgent, IncomingMessage } from 'node:http';
import { silentLogger, type AgentLogger } from './agent-logger.js';
import { backoffDelay, type BackoffPolicy } from './backoff.js';
import { readBody } from './body-reader.js';
import { openGet, type OpenResponse } from './http-get.js';
import {
  parseContentRange,
  parseUnsatisfiedRange,
  rangeHeader,
  retryAfterMs,
} from './http-range.js';
import { OtaFailure, type OtaReason } from './ota-reasons.js';

/**
 * Called with every body chunk before it is written; may delay it (a slow link), or call `cut`
 * to drop the connection and return how many of the chunk's bytes arrived before the drop.
 * `dead` says whether the response was ended otherwise meanwhile (a deadline), so a long delay
 * can stop early. The simulator shapes devices' links with it; real devices leave it out.
 */
export type ChunkShaper = (
  chunk: Buffer,
  cut: () => void,
  dead: () => boolean,
) => Promise<number | void> | number | void;

export interface DownloadOptions {
  readonly url: string;
  /** The partial file: resumed from its length, truncated when the server starts over. */
  readonly file: string;
  /** Bytes the command announced; nothing past it is ever written. */
  readonly expectedSize: number;
  /** Validator of the bytes already in `file`, sent as `If-Range`. */
  readonly etag?: string | null;
  readonly signal?: AbortSignal;
  /** Requests before giving up (default 8). */
  readonly maxAttempts?: number;
  /** Whole download, milliseconds (default 600000); past it the result is `timeout` (-2). */
  readonly deadlineMs?: number;
  /** Silence on the socket before a request counts as dropped, milliseconds (default 30000). */
  readonly idleTimeoutMs?: number;
  /** Waits between attempts (default 500 ms doubling to 10 s, with jitter). */
  readonly backoff?: BackoffPolicy;
  /** Longest `Retry-After` honoured, milliseconds (default 30000). */
  readonly maxRetryAfterMs?: number;
  readonly httpAgent?: HttpAgent;
  readonly shaper?: ChunkShaper;
  readonly onProgress?: (bytes: number) => void;
  /** A new validator for the bytes on disk (persist it to resume after a restart). */
  readonly onValidator?: (etag: string | null) => void;
  readonly log?: AgentLogger;
}

export interface DownloadResult {
  readonly bytes: number;
  /** Status of the last response that carried body bytes (200 or 206). */
  readonly http: number;
  /** Whether bytes from an earlier response were kept (a resumed download). */
  readonly resumed: boolean;
  readonly attempts: number;
}

const DOWNLOAD_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 10_000 };
const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);

/** One response's outcome, for the loop in download(). */
type Step =
  | { readonly kind: 'complete' }
  | { readonly kind: 'more' }
  | { readonly kind: 'restart' }
  | {
      readonly kind: 'retry';
      readonly reason: OtaReason;
      readonly waitMs?: number;
      readonly http?: number;
    };

/**
 * Downloads `url` into `file`, resuming after dropped connections (docs/agent.md,
 * "Downloads"). The rules, each from issue 5:
 * - a resume asks `Range: bytes=N-` (open-ended when the total is unknown), never a negative or
 *   inverted range;
 * - bytes are appended only on a 206 whose `Content-Range` starts exactly at the offset;
 * - a 200 truncates and starts again from its body; a 206 at any other offset starts again;
 * - chunked bodies are read to their end; a body shorter than its `Content-Length` is a
 *   dropped connection; nothing is written past `expectedSize`.
 * Whether the bytes are the right ones is for the verifier to say: a complete, short body
 * ends the download and fails on its hash.
 */
export async function download(options: DownloadOptions): Promise<DownloadResult> {
  return new Downloader(options).run();
}

class Downloader {
  readonly #o: DownloadOptions;
  readonly #log: AgentLogger;
  readonly #deadline: number;
  #offset = 0;
  #total: number | null = null;
  #etag: string | null;
  #resumed = false;
  #lastHttp = 0;
  #handle!: FileHandle;

  constructor(options: DownloadOptions) {
    this.#o = options;
    this.#log = options.log ?? silentLogger;
    this.#deadline = Date.now() + (options.deadlineMs ?? 600_000);
    this.#etag = options.etag ?? null;
  }

  async run(): Promise<DownloadResult> {
    this.#handle = await openPartial(this.#o.file);
    try {
      return await this.#loop();
    } finally {
      await this.#handle.sync().catch(() => undefined);
      await this.#handle.close();
    }
  }

  async #loop(): Promise<DownloadResult> {
    const stats: Stats = await stat(this.#o.file);
    this.#offset = stats.size;
    if (this.#offset > this.#o.expectedSize) await this.#truncate();

    const maxAttempts = this.#o.maxAttempts ?? 8;
    let last: Extract<Step, { kind: 'retry' }> | null = null;
    let failures = 0;
    for (let attempt = 1; ; attempt++) {
      this.#o.signal?.throwIfAborted();
      if (attempt > maxAttempts) {
        throw new OtaFailure(
          last?.reason ?? 'connection_failed',
          `gave up after ${maxAttempts} requests`,
          {
            http: last?.http,
            bytes: this.#offset,
          },
        );
      }
      if (Date.now() >= this.#deadline) throw this.#timeout();

      const step = await this.#request();
      if (step.kind === 'complete') {
        return {
          bytes: this.#offset,
          http: this.#lastHttp,
          resumed: this.#resumed,
          attempts: attempt,
        };
      }
      if (step.kind === 'retry') {
        last = step;
        const wait = step.waitMs ?? backoffDelay(failures++, this.#o.backoff ?? DOWNLOAD_BACKOFF);
        this.#log.info(
          { reason: step.reason, http: step.http, offset: this.#offset, wait },
          'download retry',
        );
        await this.#sleep(wait);
      }
    }
  }

  async #request(): Promise<Step> {
    const headers: Record<string, string> = {};
    const range = rangeHeader(this.#offset, this.#total);
    if (range) {
      headers.range = range;
      if (this.#etag) headers['if-range'] = this.#etag;
    }
    let opened: OpenResponse;
    try {
      opened = await openGet(this.#o.url, {
        headers,
        agent: this.#o.httpAgent,
        idleTimeoutMs: this.#o.idleTimeoutMs ?? 30_000,
        deadline: this.#deadline,
        signal: this.#o.signal,
      });
    } catch (error) {
      return this.#networkError(error);
    }
    const { res } = opened;
    const status = res.statusCode ?? 0;
    this.#log.debug({ status, range, offset: this.#offset }, 'download response');

    if (status === 200) return this.#onFull(opened);
    if (status === 206) return this.#onPartial(opened);
    opened.discard();
    if (status === 416) return this.#onUnsatisfiable(res);
    if (RETRYABLE_STATUS.has(status)) {
      const after = retryAfterMs(headerText(res, 'retry-after'));
      const waitMs =
        after === null ? undefined : Math.min(after, this.#o.maxRetryAfterMs ?? 30_000);
      return { kind: 'retry', reason: 'http_status', http: status, waitMs };
    }
    // Redirects included: the server never redirects (DESIGN), so a 3xx is a fault to report.
    throw new OtaFailure('http_status', `the server answered ${status}`, {
      http: status,
      bytes: this.#offset,
    });
  }

  async #onFull(opened: OpenResponse): Promise<Step> {
    const length = contentLength(opened.res);
    if (length !== null && length > this.#o.expectedSize) {
      opened.discard();
      throw this.#tooLarge(`Content-Length ${length}`);
    }
    if (this.#offset > 0)
      this.#log.info({ offset: this.#offset }, 'server sent the whole body: starting over');
    await this.#truncate();
    this.#total = length;
    this.#setValidator(headerText(opened.res, 'etag') ?? null);
    return this.#readBody(opened, 200, length);
  }

  async #onPartial(opened: OpenResponse): Promise<Step> {
    const range = parseContentRange(headerText(opened.res, 'content-range'));
    if (!range || range.start !== this.#offset) {
      // Appending bytes that start anywhere else would corrupt the file: start again.
      opened.discard();
      this.#log.warn(
        { contentRange: headerText(opened.res, 'content-range'), offset: this.#offset },
        'partial response at the wrong offset: starting over',
      );
      await this.#truncate();
      this.#total = null;
      return { kind: 'restart' };
    }
    if ((range.total ?? 0) > this.#o.expectedSize || range.end >= this.#o.expectedSize) {
      opened.discard();
      throw this.#tooLarge(`Content-Range ${headerText(opened.res, 'content-range')}`);
    }
    this.#total = range.total;
    this.#resumed = true;
    const etag = headerText(opened.res, 'etag');
    if (etag) this.#setValidator(etag);
    return this.#readBody(opened, 206, range.end - range.start + 1);
  }

  async #onUnsatisfiable(res: IncomingMessage): Promise<Step> {
    const total = parseUnsatisfiedRange(headerText(res, 'content-range'));
    if (this.#offset > 0 && total === this.#offset) {
      // Everything was already on disk (a restart right after the last byte).
      this.#lastHttp = 416;
      return { kind: 'complete' };
    }
    if (this.#offset === 0) {
      throw new OtaFailure('http_status', 'the server answered 416 to a plain GET', { http: 416 });
    }
    await this.#truncate();
    this.#total = null;
    return { kind: 'restart' };
  }

  async #readBody(opened: OpenResponse, status: number, length: number | null): Promise<Step> {
    this.#lastHttp = status;
    const start = this.#offset;
    const { shaper } = this.#o;
    let complete: boolean;
    try {
      complete = await readBody(
        opened.res,
        async (chunk) => {
          if (this.#offset + chunk.length > this.#o.expectedSize) {
            throw this.#tooLarge(`a body of more than ${this.#o.expectedSize - start} bytes`);
          }
          // Nothing arrives after a drop, though the process may still hold queued chunks.
          const over = (): boolean => opened.cut || opened.timedOut || this.#pastDeadline();
          if (over()) return;
          let arrived = chunk;
          if (shaper) {
            const n = await shaper(chunk, opened.discard, over);
            if (typeof n === 'number') arrived = chunk.subarray(0, n);
          }
          if (opened.timedOut || this.#pastDeadline()) return;
          if (arrived.length > 0) await this.#write(arrived);
          this.#o.onProgress?.(this.#offset);
        },
        shaper !== undefined,
      );
    } catch (error) {
      if (error instanceof OtaFailure) throw error;
      throw new OtaFailure('write_failed', String(error), { bytes: this.#offset });
    }
    if (opened.timedOut || this.#pastDeadline()) throw this.#timeout();
    this.#o.signal?.throwIfAborted();
    const received = this.#offset - start;
    if (opened.cut || !complete || (length !== null && received < length)) {
      this.#log.info({ offset: this.#offset, received, length }, 'download body interrupted');
      return { kind: 'retry', reason: 'body_short', http: status };
    }
    if (status === 200 && length === null) this.#total = this.#offset;
    if (this.#total !== null && this.#offset < this.#total) return { kind: 'more' };
    return { kind: 'complete' };
  }

  #networkError(error: unknown): Step {
    this.#o.signal?.throwIfAborted();
    if ((error as { timedOut?: boolean }).timedOut) throw this.#timeout();
    this.#log.info({ err: String(error) }, 'download request failed');
    return { kind: 'retry', reason: 'connection_failed' };
  }

  async #write(chunk: Buffer): Promise<void> {
    try {
      let done = 0;
      while (done < chunk.length) {
        const { bytesWritten } = await this.#handle.write(
          chunk,
          done,
          chunk.length - done,
          this.#offset + done,
        );
        done += bytesWritten;
      }
    } catch (error) {
      throw new OtaFailure('write_failed', `writing the package failed: ${String(error)}`, {
        bytes: this.#offset,
      });
    }
    this.#offset += chunk.length;
  }

  async #truncate(): Promise<void> {
    await this.#handle.truncate(0);
    this.#offset = 0;
    this.#resumed = false;
  }

  #setValidator(etag: string | null): void {
    // A weak validator cannot be used in If-Range (RFC 9110 §13.1.5).
    const strong = etag && !etag.startsWith('W/') ? etag : null;
    if (strong === this.#etag) return;
    this.#etag = strong;
    this.#o.onValidator?.(strong);
  }

  #pastDeadline(): boolean {
    return Date.now() >= this.#deadline;
  }

  #tooLarge(what: string): OtaFailure {
    return new OtaFailure(
      'size_exceeded',
      `the server sent ${what}; the command says ${this.#o.expectedSize} bytes`,
      {
        bytes: this.#offset,
      },
    );
  }

  #timeout(): OtaFailure {
    return new OtaFailure('timeout', 'the download did not finish before its deadline', {
      bytes: this.#offset,
    });
  }

  async #sleep(ms: number): Promise<void> {
    const wait = Math.min(ms, Math.max(0, this.#deadline - Date.now()));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, wait);
      this.#o.signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }
}

async function openPartial(file: string): Promise<FileHandle> {
  return open(file, constants.O_RDWR | constants.O_CREAT, 0o600);
}

function headerText(res: IncomingMessage, name: string): string | undefined {
  const value = res.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function contentLength(res: IncomingMessage): number | null {
  const text = headerText(res, 'content-length');
  return text !== undefined && /^\d{1,15}$/.test(text) ? Number(text) : null;
}
