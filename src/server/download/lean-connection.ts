import type { Server as HttpServer } from 'node:http';

import type { Decision, DownloadService } from './download-service.js';
import type { FrontServerOptions } from './front-server.js';
import { parseRequestHead, type ParsedHead } from './request-head-parser.js';
import { bodilessResponse, transferHead, wholeResponse } from './response-head.js';
import type { BodySink, Transfer } from './transfer.js';
import type { Wire, WireOwner } from './wire.js';

const HEAD_END = Buffer.from('\r\n\r\n');
/** Bytes of bodiless answers the client may leave unread before requests wait for it. */
const UNSENT_LIMIT = 64 * 1024;
const EMPTY = Buffer.alloc(0);
/**
 * Pipelined requests answered in one turn of the event loop before the connection waits for
 * the next turn. One chunk read can hold a thousand requests; answered at once, a few such
 * clients would hold the event loop (and the embedded broker in it) for seconds.
 */
const ANSWERS_PER_TURN = 64;

export type LeanSettings = Required<Omit<FrontServerOptions, 'rawHandles'>>;

/**
 * One connection of the front server (front-server.ts): reads request heads, answers plain
 * downloads on the lean path in order, and hands the connection to Node's HTTP server at the
 * first request it does not take.
 */
export class LeanConnection implements BodySink, WireOwner {
  wire!: Wire;
  #buf: Buffer | undefined;
  /** Where the search for the end of the head resumes. */
  #scanFrom = 0;
  #headStartedAt = 0;
  /** A response is being written: requests behind it wait (pipelining keeps order). */
  #busy = false;
  #request: ParsedHead | undefined;
  #transfer: Transfer | undefined;
  /** Date.now() when the connection last finished a response or received bytes. */
  #lastActivity = Date.now();
  /** Inside #respond's cork: the end of a body is judged once the writes are flushed. */
  #corked = false;
  #endPending = false;
  /** Inside #next's loop. */
  #draining = false;
  /** The client asked to close after the current response: later requests are ignored. */
  #ending = false;
  /** A response was finished: from then on, silence is judged as keep-alive idleness. */
  #answeredOnce = false;
  /** The client sent FIN: answer what was read, then close. */
  #peerEnded = false;
  /** Answers the client has not read pile up: the next request waits for the kernel. */
  #awaitingFlush = false;
  /** ANSWERS_PER_TURN were given this turn: the rest wait for the next one. */
  #awaitingTurn = false;
  /** Node's HTTP server has the connection. */
  #handedOver = false;

  constructor(
    readonly service: DownloadService,
    readonly httpServer: HttpServer,
    readonly settings: LeanSettings,
    readonly registry: Set<LeanConnection>,
  ) {}

  /** The wire needs its owner to exist first; the connection is served from here on. */
  attach(wire: Wire): void {
    this.wire = wire;
    if (!wire.destroyed) this.registry.add(this);
  }

  /**
   * Ends an idle kept-alive connection, or one whose request head is too slow to arrive. A new
   * connection has the headers timeout for its first request, not the keep-alive timeout:
   * a device on a slow link, or a fleet of them connecting at once, may take seconds between
   * the TCP handshake and the first request byte, and cutting it then fails its update.
   */
  checkTimeouts(now: number): void {
    const { keepAliveTimeoutMs, headersTimeoutMs } = this.settings;
    // A client that reads none of its answers is given as long as a request head.
    if (this.#awaitingFlush) {
      if (now - this.#lastActivity > headersTimeoutMs) this.wire.destroy();
      return;
    }
    if (this.#busy) return; // a download in progress is the stall watchdog's to judge

    // A request begun has the headers timeout, also on a kept-alive connection.
    if (this.#buf !== undefined && !this.#ending) {
      if (now - this.#headStartedAt > headersTimeoutMs) this.wire.destroy();
      return;
    }
    const idleLimit = this.#answeredOnce ? keepAliveTimeoutMs : headersTimeoutMs;
    if (now - this.#lastActivity > idleLimit) this.wire.destroy();
  }

  onData(chunk: Buffer): void {
    // Closing: what the client still sends is read only to see its FIN, and dropped. Kept, a
    // client streaming bytes after `Connection: close` would grow the buffer until a timeout.
    if (this.#ending) return;
    this.#lastActivity = Date.now();
    if (this.#buf === undefined) {
      this.#buf = chunk;
      this.#headStartedAt = this.#lastActivity;
    } else {
      this.#buf = Buffer.concat([this.#buf, chunk]);
    }
    if (!this.#busy && !this.#awaitingTurn) this.#next();
    else if (this.#buf.length > this.settings.maxHeadBytes) this.wire.pause();
  }

  onEnd(): void {
    this.#peerEnded = true;
    if (!this.#busy) this.#next();
  }

  /**
   * Answers the buffered requests, one at a time. Responses that finish at once call back
   * into #done, which must not recurse here: the loop below picks the next request up, so
   * a thousand pipelined requests cost a thousand turns, not a thousand stack frames.
   */
  #next(): void {
    if (this.#draining || this.#awaitingTurn) return;
    this.#draining = true;
    try {
      this.#drain();
    } finally {
      this.#draining = false;
    }
    if (this.#peerEnded && !this.#busy && !this.#handedOver) this.#close();
  }

  /**
   * Closes once the responses are out. With everything with the kernel and nothing unread,
   * at once, as nginx does: the kernel still delivers the queued bytes, then FIN. Bytes still
   * unread would turn the close into a reset that can destroy the response at the client, so
   * then the write side is shut down and the client left to close (RFC 9112 §9.6).
   */
  #close(): void {
    this.#ending = true;
    // After the client's FIN nothing it sent is left unread in the kernel.
    const unread = this.#buf !== undefined && !this.#peerEnded;
    if (this.wire.pendingBytes === 0 && !unread) this.wire.destroy();
    else this.wire.end();
  }

  #drain(): void {
    let answered = 0;
    while (this.#buf !== undefined && !this.#busy && !this.#ending) {
      if (answered++ === ANSWERS_PER_TURN) {
        this.#awaitingTurn = true;
        setImmediate(nextTurn, this);
        return;
      }
      const buf = this.#buf;
      const end = buf.indexOf(HEAD_END, this.#scanFrom);
      if (end < 0) {
        // Not a download (an API call, the console): Node's from the first bytes on.
        // Lines ended by a bare LF are not for the lean parser: Node answers them (400).
        if (
          buf.length > this.settings.maxHeadBytes ||
          !mayBeDownload(buf) ||
          hasBareLf(buf, this.#scanFrom)
        ) {
          return this.#handOver();
        }
        this.#scanFrom = Math.max(0, buf.length - 3);
        return;
      }

      const parsed =
        end < this.settings.maxHeadBytes
          ? parseRequestHead(buf.toString('latin1', 0, end))
          : undefined;
      if (parsed === undefined) return this.#handOver();
      this.#buf = end + 4 < buf.length ? buf.subarray(end + 4) : undefined;
      this.#scanFrom = 0;
      this.#headStartedAt = Date.now();
      this.#serve(parsed);
    }
  }

  #serve(req: ParsedHead): void {
    this.#busy = true;
    this.#request = req;
    const decision = this.service.decide(req);
    if (decision instanceof Promise) decision.then((d) => this.#respond(d));
    else this.#respond(decision);
  }

  #respond(d: Decision): void {
    const req = this.#request!;
    const { wire } = this;
    if (wire.destroyed) {
      if (d.kind === 'body') this.service.ended(d.transfer, false);
      return;
    }

    if (d.kind !== 'body') {
      const r = bodilessResponse(d, req.method === 'HEAD', req.keepAlive, req.http10);
      wire.cork();
      wire.write(r.head);
      if (r.body !== undefined) wire.write(r.body);
      wire.uncork();
      return this.#doneOnceTaken();
    }

    const t = d.transfer;
    this.#transfer = t;
    t.sink = this;
    const whole = wholeResponse(t, req.keepAlive, req.http10);
    if (whole !== undefined) {
      wire.write(whole);
      return this.#afterEnd();
    }

    // Head and the first of the body leave in one writev: cork, write both, uncork.
    this.#corked = true;
    wire.cork();
    wire.write(transferHead(t, req.keepAlive, req.http10));
    this.service.sendBody(t);
    wire.uncork();
    this.#corked = false;
    if (this.#endPending) this.#afterEnd();
  }

  /**
   * Answers without a package body (HEAD, 304, refusals) follow one another without waiting
   * for the client to read them, up to UNSENT_LIMIT. Past it the next request waits until the
   * kernel has taken them, and reading stops once a request head is buffered: a client
   * pipelining requests it never reads the answers of must not grow the server's memory.
   */
  #doneOnceTaken(): void {
    if (this.wire.pendingBytes <= UNSENT_LIMIT) return this.#done();
    this.#awaitingFlush = true;
    this.wire.write(EMPTY, (err) => {
      this.#awaitingFlush = false;
      if (!err) this.#done();
    });
  }

  write(chunk: Buffer, done: (err?: Error | null) => void): void {
    this.wire.write(chunk, done);
  }

  end(chunk?: Buffer): void {
    if (chunk !== undefined && chunk.length > 0) this.wire.write(chunk);
    if (this.#corked) this.#endPending = true;
    else this.#afterEnd();
  }

  /**
   * Usually the kernel took every byte inside the write call: the download finished now,
   * without waiting a tick for a callback. Otherwise an empty write queued behind the body
   * calls back once the body is out.
   */
  #afterEnd(): void {
    this.#endPending = false;
    if (this.wire.pendingBytes === 0) this.#finished();
    else this.wire.write(EMPTY, (err) => this.#finished(err));
  }

  destroy(): void {
    this.wire.destroy();
  }

  /** The last body byte reached the kernel. */
  #finished(err?: Error | null): void {
    const t = this.#transfer;
    if (err || t === undefined) return; // a failed write ends in 'close'
    this.#transfer = undefined;
    this.service.ended(t, true);
    this.#done();
  }

  #done(): void {
    this.#busy = false;
    this.#answeredOnce = true;
    this.#lastActivity = Date.now();
    if (!this.#request!.keepAlive) return this.#close();
    this.#request = undefined;
    if (this.wire.paused) this.wire.resume();
    if (this.#buf !== undefined || this.#peerEnded) this.#next();
  }

  onClose(): void {
    this.registry.delete(this);
    const t = this.#transfer;
    this.#transfer = undefined;
    if (t !== undefined) this.service.ended(t, false);
  }

  /** @internal The next turn of the event loop after ANSWERS_PER_TURN. */
  continueTurn(): void {
    this.#awaitingTurn = false;
    if (this.#handedOver || this.wire.destroyed) return;
    if (this.wire.paused && !this.#busy) this.wire.resume();
    this.#next();
  }

  /** Node's HTTP server takes the connection over, with the bytes not yet answered. */
  #handOver(): void {
    this.#handedOver = true;
    this.registry.delete(this);
    const unread = this.#buf;
    this.#buf = undefined;
    this.wire.handOver(this.httpServer, unread);
  }
}

function nextTurn(c: LeanConnection): void {
  c.continueTurn();
}

/** Whether a line feed in `buf` from `from` on is not preceded by a carriage return. */
function hasBareLf(buf: Buffer, from: number): boolean {
  for (let i = buf.indexOf(0x0a, from); i >= 0; i = buf.indexOf(0x0a, i + 1)) {
    if (i === 0 || buf[i - 1] !== 0x0d) return true;
  }
  return false;
}

const GET_PREFIX = Buffer.from('GET /d/');
const HEAD_PREFIX = Buffer.from('HEAD /d/');

/** Whether `buf` starts like a download request (or is too short to tell). */
function mayBeDownload(buf: Buffer): boolean {
  const prefix = buf[0] === 0x48 ? HEAD_PREFIX : GET_PREFIX;
  const n = Math.min(buf.length, prefix.length);
  return buf.compare(prefix, 0, n, 0, n) === 0;
}
