import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';

import type { Wire, WireOwner } from './wire.js';

/**
 * A wire over a `net.Socket`: what the front server uses when Node's raw stream handles are
 * not available (src/server/net/libuv-stream.ts). The socket must allow half-open
 * connections, so that the client's FIN reaches the owner instead of ending the socket.
 */
export class SocketWire implements Wire {
  constructor(
    readonly socket: Socket,
    owner: WireOwner,
  ) {
    // Shared listeners find their owner on the socket: a new connection allocates no closures.
    (socket as OwnedSocket)[OWNER] = owner;
    socket.on('data', onSocketData);
    socket.on('end', onSocketEnd);
    socket.on('close', onSocketClose);
    socket.on('error', ignore); // always followed by 'close'
  }

  write(data: Buffer | string, done?: (err?: Error | null) => void): void {
    this.socket.write(data, 'latin1', done);
  }

  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
  }

  get pendingBytes(): number {
    return this.socket.writableLength;
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  get paused(): boolean {
    return this.socket.isPaused();
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  get destroyed(): boolean {
    return this.socket.destroyed;
  }

  handOver(httpServer: HttpServer, unread: Buffer | undefined): void {
    const { socket } = this;
    socket.removeListener('data', onSocketData);
    socket.removeListener('end', onSocketEnd);
    socket.removeListener('close', onSocketClose);
    socket.removeListener('error', ignore);
    // Not `delete`: that would drop the socket's properties into slow dictionary mode.
    (socket as OwnedSocket)[OWNER] = undefined;
    // Node's HTTP server expects a socket that ends itself when the client does.
    socket.allowHalfOpen = false;

    socket.pause();
    if (unread !== undefined) socket.unshift(unread);
    httpServer.emit('connection', socket);
    socket.resume();
  }
}

const OWNER = Symbol('tiota.wireOwner');
type OwnedSocket = Socket & { [OWNER]?: WireOwner };

function onSocketData(this: OwnedSocket, chunk: Buffer): void {
  this[OWNER]!.onData(chunk);
}

function onSocketEnd(this: OwnedSocket): void {
  this[OWNER]!.onEnd();
}

function onSocketClose(this: OwnedSocket): void {
  this[OWNER]!.onClose();
}

function ignore(): void {}
