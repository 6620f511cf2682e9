import type { Server as HttpServer } from 'node:http';

/**
 * One TCP connection as the front server drives it. Two kinds: a raw libuv handle (raw-wire.ts,
 * the fast one) and a `net.Socket` (socket-wire.ts, where Node's internals are not as
 * expected). Both behave alike for everything below.
 */
export interface Wire {
  /**
   * Queues `data` (a string is sent as latin1). `done`, if given, runs in a later tick once
   * the kernel has the bytes, or with an error if the connection died first.
   */
  write(data: Buffer | string, done?: (err?: Error | null) => void): void;
  /** Holds writes until `uncork`, which sends them together (head and body in one writev). */
  cork(): void;
  uncork(): void;
  /** Bytes written but not yet with the kernel. */
  readonly pendingBytes: number;
  /** Stops and restarts reading (a client pipelining faster than it reads its responses). */
  pause(): void;
  resume(): void;
  readonly paused: boolean;
  /** Sends FIN after the queued bytes; the connection closes once the client closes too. */
  end(): void;
  /** Closes now. The owner's `onClose` follows (once, whatever ended the connection). */
  destroy(): void;
  readonly destroyed: boolean;
  /** Gives the connection to Node's HTTP server, with `unread` put back in front of the rest. */
  handOver(httpServer: HttpServer, unread: Buffer | undefined): void;
}

/** What a wire tells its owner. Not called after `handOver`. */
export interface WireOwner {
  onData(chunk: Buffer): void;
  /** The client sent FIN: it will send nothing more but may still be reading. */
  onEnd(): void;
  onClose(): void;
}
