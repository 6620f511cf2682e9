import type { Server as HttpServer } from 'node:http';
import { Socket } from 'node:net';
import { getSystemErrorName } from 'node:util';

import type {
  LibuvStreams,
  ShutdownRequest,
  TcpHandle,
  WriteRequest,
} from '../net/libuv-stream.js';
import type { Wire, WireOwner } from './wire.js';

type Done = (err?: Error | null) => void;

/** A write in flight, with what its completion needs. */
interface PendingWrite extends WriteRequest {
  wire: RawWire;
  bytes: number;
  /** Kept referenced until the kernel has it: libuv writes from this memory. */
  data: unknown;
  done: Done | Done[] | undefined;
}

interface PendingShutdown extends ShutdownRequest {
  wire: RawWire;
}

/**
 * A wire over a bare libuv TCP handle: reads arrive as buffers, writes go straight to the
 * kernel (libuv queues what the kernel cannot take yet), nothing else happens per
 * connection. See src/server/net/libuv-stream.ts for why.
 */
export class RawWire implements Wire {
  #owner: WireOwner | undefined;
  /** Bytes written (or corked) that the kernel does not have yet. */
  #pending = 0;
  #corked: Array<Buffer | string> | undefined;
  #corkedDone: Done[] | undefined;
  #paused = false;
  #closing = false;
  #handedOver = false;
  /** We asked for FIN / the kernel has sent it / the client sent its FIN. */
  #endAsked = false;
  #finSent = false;
  #peerEnded = false;

  constructor(
    readonly handle: TcpHandle,
    readonly streams: LibuvStreams,
    owner: WireOwner,
  ) {
    this.#owner = owner;
    (handle as OwnedHandle)[WIRE] = this;
    handle.onread = onRead;
    if (typeof handle.setNoDelay === 'function') handle.setNoDelay(true);
    if (handle.readStart() !== 0) this.destroy();
  }

  write(data: Buffer | string, done?: Done): void {
    if (this.#closing || this.#handedOver) {
      if (done) process.nextTick(done, new Error('connection closed'));
      return;
    }
    if (this.#corked !== undefined) {
      this.#corked.push(data);
      if (done) (this.#corkedDone ??= []).push(done);
      this.#pending += data.length; // latin1: one byte a character
      return;
    }
    this.#send(data, done);
  }

  cork(): void {
    this.#corked ??= [];
  }

  uncork(): void {
    const chunks = this.#corked;
    const done = this.#corkedDone;
    this.#corked = this.#corkedDone = undefined;
    if (chunks === undefined || chunks.length === 0) return;

    for (const c of chunks) this.#pending -= c.length;
    if (this.#closing || this.#handedOver) {
      if (done) process.nextTick(callDone, done, new Error('connection closed'));
      return;
    }
    this.#send(chunks.length === 1 ? chunks[0] : chunks, done);
  }

  get pendingBytes(): number {
    return this.#pending;
  }

  #send(data: Buffer | string | Array<Buffer | string>, done: Done | Done[] | undefined): void {
    const { handle, streams } = this;
    const req = streams.newWriteRequest() as PendingWrite;
    req.handle = handle;
    req.oncomplete = onWriteComplete;
    req.async = false;
    req.wire = this;
    req.done = done;

    let err: number;
    let bytes = 0;
    if (typeof data === 'string') {
      bytes = data.length;
      err = handle.writeLatin1String(req, data);
    } else if (Buffer.isBuffer(data)) {
      bytes = data.length;
      err = handle.writeBuffer(req, data);
    } else {
      const chunks: Array<Buffer | string> = [];
      for (const c of data) {
        bytes += c.length;
        chunks.push(c, typeof c === 'string' ? 'latin1' : 'buffer');
      }
      err = handle.writev(req, chunks, false);
    }

    if (err !== 0) {
      this.destroy();
      if (done) process.nextTick(callDone, done, uvError('write', err));
      return;
    }
    if (streams.lastWriteWasAsync()) {
      req.async = true;
      req.bytes = bytes;
      req.data = data;
      this.#pending += bytes;
    } else if (done) {
      process.nextTick(callDone, done, null);
    }
  }

  /** @internal The kernel took a write that went out in part, or the write failed. */
  afterWrite(req: PendingWrite, status: number): void {
    this.#pending -= req.bytes;
    req.data = undefined;
    const err = status < 0 ? uvError('write', status) : null;
    if (err) this.destroy();
    if (req.done) callDone(req.done, err);
  }

  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    if (this.#reading()) this.handle.readStop();
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (this.#reading()) this.handle.readStart();
  }

  get paused(): boolean {
    return this.#paused;
  }

  #reading(): boolean {
    return !this.#peerEnded && !this.#closing && !this.#handedOver;
  }

  end(): void {
    if (this.#endAsked || this.#closing || this.#handedOver) return;
    this.#endAsked = true;
    // Read on to see the client's FIN (and drop whatever it still sends).
    this.resume();

    const req = this.streams.newShutdownRequest() as PendingShutdown;
    req.handle = this.handle;
    req.oncomplete = onShutdownComplete;
    req.wire = this;
    const err = this.handle.shutdown(req);
    if (err === 1)
      this.afterShutdown(0); // done at once, no completion follows
    else if (err !== 0) this.destroy();
  }

  /** @internal FIN is sent after the last queued byte. */
  afterShutdown(status: number): void {
    this.#finSent = true;
    if (status < 0 || this.#peerEnded) this.destroy();
  }

  /** @internal A read, the client's FIN, or a read error. */
  afterRead(data: ArrayBuffer | undefined): void {
    const n = this.streams.readResult();
    if (n > 0 && data !== undefined) {
      return this.#owner?.onData(Buffer.from(data, this.streams.readOffset(), n));
    }
    if (n === 0) return;
    if (n !== this.streams.EOF) return this.destroy();

    this.#peerEnded = true;
    this.handle.readStop();
    if (this.#finSent) this.destroy();
    else if (!this.#endAsked) this.#owner?.onEnd();
  }

  destroy(): void {
    if (this.#closing || this.#handedOver) return;
    this.#closing = true;
    this.handle.close(() => {
      const owner = this.#owner;
      this.#owner = undefined;
      owner?.onClose();
    });
  }

  get destroyed(): boolean {
    return this.#closing;
  }

  handOver(httpServer: HttpServer, unread: Buffer | undefined): void {
    if (this.#closing || this.#handedOver) return;
    this.#handedOver = true;
    this.#owner = undefined;
    const { handle } = this;
    handle.readStop();
    (handle as OwnedHandle)[WIRE] = undefined;

    // What net.Server does for a connection it accepts, with reading paused until the bytes
    // already read are back in front.
    const socket = new Socket({
      handle,
      readable: true,
      writable: true,
      pauseOnCreate: true,
    } as ConstructorParameters<typeof Socket>[0]);
    if (unread !== undefined) socket.unshift(unread);
    httpServer.emit('connection', socket);
    socket.resume();
  }
}

const WIRE = Symbol('tiota.rawWire');
type OwnedHandle = TcpHandle & { [WIRE]?: RawWire };

function onRead(this: TcpHandle, data: ArrayBuffer | undefined): void {
  (this as OwnedHandle)[WIRE]?.afterRead(data);
}

function onWriteComplete(this: WriteRequest, status: number): void {
  const req = this as PendingWrite;
  req.wire.afterWrite(req, status);
}

function onShutdownComplete(this: ShutdownRequest, status: number): void {
  (this as PendingShutdown).wire.afterShutdown(status);
}

function callDone(done: Done | Done[], err: Error | null): void {
  if (typeof done === 'function') return done(err);
  for (const d of done) d(err);
}

function uvError(what: string, code: number): Error {
  return new Error(`${what} failed: ${getSystemErrorName(code)}`);
}
