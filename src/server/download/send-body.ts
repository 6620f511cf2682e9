import { close, open, read } from 'node:fs';
import { performance } from 'node:perf_hooks';

import type { Transfer } from './transfer.js';

/**
 * Bodies up to this size go out in one write with the headers. Larger ones go in slices so
 * that the bytes a cut download received are known to within one slice.
 */
const ONE_WRITE_BYTES = 64 * 1024;
const MEMORY_SLICE_BYTES = 1024 * 1024;

/** Sends `t`'s range of an in-memory body. The buffer is shared; nothing is copied. */
export function sendMemoryBody(t: Transfer, body: Buffer): void {
  const sink = t.sink!;
  if (t.length <= ONE_WRITE_BYTES) {
    sink.end(t.length === body.length ? body : body.subarray(t.start, t.end + 1));
    return;
  }

  let pos = t.start;
  const next = (err?: Error | null): void => {
    if (err || t.closed) return;
    const n = Math.min(MEMORY_SLICE_BYTES, t.end + 1 - pos);
    const slice = body.subarray(pos, pos + n);
    pos += n;
    if (pos > t.end) {
      sink.end(slice);
    } else {
      // The callback runs once the slice is with the kernel: the next one follows at once.
      sink.write(slice, (e) => {
        if (!e) t.progressed(n, performance.now());
        next(e);
      });
    }
  };
  next();
}

/** Read buffers are reused: a large download costs no allocation per chunk. */
export class ChunkPool {
  readonly #free: Buffer[] = [];

  constructor(
    readonly chunkBytes: number,
    readonly maxFree: number,
  ) {}

  take(): Buffer {
    return this.#free.pop() ?? Buffer.allocUnsafe(this.chunkBytes);
  }

  give(buf: Buffer): void {
    if (this.#free.length < this.maxFree) this.#free.push(buf);
  }
}

/**
 * Streams `t`'s range of a file: read a chunk, write it, read the next once the kernel has
 * it. One chunk per download is in memory, so a slow device holds little; the file is never
 * read whole. `onError` runs for a read failure or a file shorter than recorded.
 */
export function sendFileBody(
  t: Transfer,
  filePath: string,
  pool: ChunkPool,
  onError: (err: Error) => void,
): void {
  open(filePath, 'r', (openErr, fd) => {
    if (openErr) return onError(openErr);
    if (t.closed) return close(fd, ignore);

    const buf = pool.take();
    let state: 'reading' | 'writing' | 'done' = 'reading';
    let pos = t.start;
    let written = 0;

    const finish = (bufferReusable: boolean): void => {
      state = 'done';
      close(fd, ignore);
      if (bufferReusable) pool.give(buf);
    };

    const readNext = (): void => {
      state = 'reading';
      read(fd, buf, 0, Math.min(buf.length, t.end + 1 - pos), pos, afterRead);
    };

    const afterRead = (err: Error | null, n: number): void => {
      if (t.closed) return finish(true);
      if (err || n === 0) {
        finish(true);
        return onError(err ?? new Error(`${filePath} ended at byte ${pos}, before ${t.end + 1}`));
      }
      pos += n;
      written = n;
      state = 'writing';
      t.sink!.write(n === buf.length ? buf : buf.subarray(0, n), afterWrite);
    };

    const afterWrite = (err?: Error | null): void => {
      if (err || t.closed) return; // onCut frees the file
      t.progressed(written, performance.now());
      if (pos <= t.end) return readNext();
      finish(true);
      t.sink!.end();
    };

    // A cut connection may never call a pending write back: free the file here. The buffer
    // may still sit in the dead socket's queue, so it goes to the collector, not the pool.
    // A read in progress is left to afterRead, which sees `closed`.
    t.onCut = () => {
      if (state === 'writing') finish(false);
    };

    if (t.length === 0) {
      finish(true);
      return t.sink!.end();
    }
    readNext();
  });
}

function ignore(): void {}
