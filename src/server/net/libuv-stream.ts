import { getSystemErrorMap } from 'node:util';

/**
 * Node's own TCP stream handles, the objects under every `net.Socket`, used directly.
 *
 * Why: a `net.Socket` is a duplex stream with event emitters, timers and buffering state,
 * built and torn down for each connection. For a device that opens a connection per download
 * that costs more than the download itself (about 70 µs of 190 µs per 20 KB response here,
 * see docs/benchmarks.md). The handle alone reads into a buffer, writes a buffer and closes.
 *
 * These are Node internals (reached through `process.binding`, deprecated but kept for
 * exactly such uses). Everything that depends on their shape is in this file and checked
 * when it loads; when anything is missing, `libuvStreams` is undefined and callers use
 * `net.Socket` instead (src/server/download/socket-wire.ts).
 */

/** A connected TCP handle (Node's `TCPWrap`). Methods return 0 or a negative libuv error. */
export interface TcpHandle {
  /** Called with `this` = the handle; the read's size or error is in `streamState`. */
  onread: ((this: TcpHandle, data: ArrayBuffer | undefined) => void) | undefined;
  readStart(): number;
  readStop(): number;
  writeBuffer(req: WriteRequest, data: Uint8Array): number;
  writeLatin1String(req: WriteRequest, data: string): number;
  /** `chunks` alternates data and encoding ('buffer' or 'latin1'). */
  writev(req: WriteRequest, chunks: Array<Buffer | string>, allBuffers: false): number;
  shutdown(req: ShutdownRequest): number;
  setNoDelay(enable: boolean): number;
  close(callback?: () => void): void;
}

/** A write in flight: libuv calls `oncomplete` once the kernel has all of it, or on failure. */
export interface WriteRequest {
  handle: TcpHandle;
  oncomplete: (this: WriteRequest, status: number) => void;
  async: boolean;
  [key: string]: unknown;
}

export interface ShutdownRequest {
  handle: TcpHandle;
  oncomplete: (this: ShutdownRequest, status: number) => void;
  [key: string]: unknown;
}

export interface LibuvStreams {
  newWriteRequest(): WriteRequest;
  newShutdownRequest(): ShutdownRequest;
  /** Bytes read (> 0), 0 (nothing, try later) or a negative libuv error, for `onread`. */
  readResult(): number;
  /** Where `onread`'s data starts in its ArrayBuffer. */
  readOffset(): number;
  /** Whether the last write went to the kernel only in part; `oncomplete` then follows. */
  lastWriteWasAsync(): boolean;
  /** libuv's end-of-stream code, as `readResult()` gives it. */
  readonly EOF: number;
}

interface StreamWrapBinding {
  WriteWrap: new () => WriteRequest;
  ShutdownWrap: new () => ShutdownRequest;
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kArrayBufferOffset: number;
  kLastWriteWasAsync: number;
}

function load(): LibuvStreams | undefined {
  try {
    const binding = (process as unknown as { binding(name: string): unknown }).binding;
    const b = binding('stream_wrap') as StreamWrapBinding;
    const eof = [...getSystemErrorMap()].find(([, [name]]) => name === 'EOF')?.[0];
    const shaped =
      typeof b.WriteWrap === 'function' &&
      typeof b.ShutdownWrap === 'function' &&
      b.streamBaseState instanceof Int32Array &&
      [b.kReadBytesOrError, b.kArrayBufferOffset, b.kLastWriteWasAsync].every(Number.isInteger) &&
      eof !== undefined;
    if (!shaped) return undefined;

    const state = b.streamBaseState;
    return {
      newWriteRequest: () => new b.WriteWrap(),
      newShutdownRequest: () => new b.ShutdownWrap(),
      readResult: () => state[b.kReadBytesOrError],
      readOffset: () => state[b.kArrayBufferOffset],
      lastWriteWasAsync: () => state[b.kLastWriteWasAsync] !== 0,
      EOF: eof,
    };
  } catch {
    return undefined;
  }
}

export const libuvStreams: LibuvStreams | undefined = load();

/** Whether `handle` looks like a TCP stream handle this module can drive. */
export function isTcpHandle(handle: unknown): handle is TcpHandle {
  const h = handle as Partial<TcpHandle> | null;
  return (
    typeof h?.readStart === 'function' &&
    typeof h.writeBuffer === 'function' &&
    typeof h.writev === 'function' &&
    typeof h.shutdown === 'function' &&
    typeof h.close === 'function'
  );
}
