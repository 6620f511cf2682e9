/**
 * A minimal MQTT 3.1.1 client for simulated devices: CONNECT (with will), SUBSCRIBE, QoS 1
 * PUBLISH both ways, PINGREQ. mqtt.js costs tens of kilobytes and noticeable CPU per client;
 * benchmarks hold 10,000–100,000 of them on the same two cores as the server, so each device
 * here is one socket, a few closures and no timers (the fleet pings in bulk).
 */
import net from 'node:net';

export interface LeanConnectOptions {
  readonly host: string;
  readonly port: number;
  /** Source address, e.g. 127.0.0.2: each one has its own ~28k ephemeral ports. */
  readonly localAddress?: string;
  readonly clientId: string;
  readonly username?: string;
  readonly password?: string;
  readonly will?: { readonly topic: string; readonly payload: string };
  /** Seconds; 0 turns the broker's keep-alive check off. */
  readonly keepaliveSeconds: number;
}

const PINGREQ = Buffer.from([0xc0, 0x00]);
const DISCONNECT = Buffer.from([0xe0, 0x00]);

export class LeanMqtt {
  /** Server → device publishes (already acknowledged). */
  onMessage: (topic: string, payload: Buffer) => void = () => undefined;
  onClose: () => void = () => undefined;

  #socket: net.Socket | null = null;
  #pending = new Map<number, (error?: Error) => void>();
  #nextId = 1;
  #buffer: Buffer | null = null;
  #connack: ((rc: number) => void) | null = null;

  constructor(private readonly options: LeanConnectOptions) {}

  get connected(): boolean {
    return this.#socket !== null && !this.#socket.destroyed;
  }

  /** Resolves on CONNACK 0; rejects on any other return code or a socket error. */
  connect(timeoutMs = 30_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const o = this.options;
      const socket = net.connect({ host: o.host, port: o.port, localAddress: o.localAddress });
      socket.setNoDelay(true);
      this.#socket = socket;
      const timer = setTimeout(() => fail(new Error('CONNACK timeout')), timeoutMs);
      const fail = (error: Error) => {
        clearTimeout(timer);
        this.#connack = null;
        socket.destroy();
        reject(error);
      };
      this.#connack = (rc) => {
        clearTimeout(timer);
        this.#connack = null;
        if (rc === 0) resolve();
        else fail(new Error(`CONNACK return code ${rc}`));
      };
      socket.on('data', (chunk) => this.#read(chunk));
      socket.on('error', (error) => {
        if (this.#connack) fail(error);
      });
      socket.on('close', () => {
        for (const done of this.#pending.values()) done(new Error('connection closed'));
        this.#pending.clear();
        this.onClose();
      });
      socket.write(encodeConnect(o));
    });
  }

  subscribe(topic: string): Promise<void> {
    return this.#send((id) => {
      const t = Buffer.from(topic);
      const body = Buffer.allocUnsafe(2 + 2 + t.length + 1);
      body.writeUInt16BE(id, 0);
      body.writeUInt16BE(t.length, 2);
      t.copy(body, 4);
      body[4 + t.length] = 1;
      return packet(0x82, body);
    });
  }

  /** QoS 1; resolves on PUBACK. */
  publish(topic: string, payload: string | Buffer): Promise<void> {
    return this.#send((id) => encodePublish(topic, payload, id));
  }

  ping(): void {
    if (this.connected) this.#socket!.write(PINGREQ);
  }

  /** A clean goodbye: no last will. */
  end(): void {
    if (!this.connected) return;
    this.#socket!.end(DISCONNECT);
  }

  /** A power cut or crash: the broker publishes the last will. */
  destroy(): void {
    this.#socket?.destroy();
  }

  #send(build: (id: number) => Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.connected) return reject(new Error('not connected'));
      const id = this.#nextId;
      this.#nextId = id === 0xffff ? 1 : id + 1;
      this.#pending.set(id, (error) => (error ? reject(error) : resolve()));
      this.#socket!.write(build(id));
    });
  }

  #read(chunk: Buffer): void {
    const data = this.#buffer ? Buffer.concat([this.#buffer, chunk]) : chunk;
    this.#buffer = null;
    let at = 0;
    while (at < data.length) {
      // Fixed header: type byte, then the remaining length as a base-128 varint [MQTT-2.2.3].
      let length = 0;
      let shift = 0;
      let i = at + 1;
      for (;;) {
        if (i >= data.length) return void (this.#buffer = data.subarray(at));
        const byte = data[i++];
        length += (byte & 0x7f) << shift;
        if ((byte & 0x80) === 0) break;
        shift += 7;
      }
      if (i + length > data.length) return void (this.#buffer = data.subarray(at));
      this.#handle(data[at], data.subarray(i, i + length));
      at = i + length;
    }
  }

  #handle(header: number, body: Buffer): void {
    const type = header >> 4;
    if (type === 2) this.#connack?.(body[1]);
    else if (type === 4 || type === 9) {
      // PUBACK / SUBACK: both start with the packet id.
      const id = body.readUInt16BE(0);
      const done = this.#pending.get(id);
      this.#pending.delete(id);
      if (type === 9 && body[2] === 0x80) done?.(new Error('subscription refused'));
      else done?.();
    } else if (type === 3) {
      const qos = (header >> 1) & 3;
      const topicLength = body.readUInt16BE(0);
      const topic = body.toString('utf8', 2, 2 + topicLength);
      let at = 2 + topicLength;
      if (qos > 0) {
        const id = body.readUInt16BE(at);
        at += 2;
        this.#socket?.write(Buffer.from([0x40, 0x02, id >> 8, id & 0xff]));
      }
      this.onMessage(topic, body.subarray(at));
    }
  }
}

function encodeConnect(o: LeanConnectOptions): Buffer {
  const parts: Buffer[] = [];
  const str = (s: string) => {
    const b = Buffer.from(s);
    const out = Buffer.allocUnsafe(2 + b.length);
    out.writeUInt16BE(b.length, 0);
    b.copy(out, 2);
    parts.push(out);
  };
  let flags = 0x02; // clean session
  if (o.will) flags |= 0x04 | (1 << 3); // will, QoS 1, not retained
  if (o.username !== undefined) flags |= 0x80;
  if (o.password !== undefined) flags |= 0x40;
  const header = Buffer.from([
    0,
    4,
    0x4d,
    0x51,
    0x54,
    0x54,
    4,
    flags,
    o.keepaliveSeconds >> 8,
    o.keepaliveSeconds & 0xff,
  ]);
  parts.push(header);
  str(o.clientId);
  if (o.will) {
    str(o.will.topic);
    str(o.will.payload);
  }
  if (o.username !== undefined) str(o.username);
  if (o.password !== undefined) str(o.password);
  return packet(0x10, Buffer.concat(parts));
}

/** A QoS 1 PUBLISH packet; exported so a publisher can build its bytes once and reuse them. */
export function encodePublish(topic: string, payload: string | Buffer, id: number): Buffer {
  const t = Buffer.from(topic);
  const p = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const body = Buffer.allocUnsafe(2 + t.length + 2 + p.length);
  body.writeUInt16BE(t.length, 0);
  t.copy(body, 2);
  body.writeUInt16BE(id, 2 + t.length);
  p.copy(body, 4 + t.length);
  return packet(0x32, body);
}

function packet(header: number, body: Buffer): Buffer {
  const length: number[] = [];
  let n = body.length;
  do {
    let byte = n & 0x7f;
    n >>= 7;
    if (n > 0) byte |= 0x80;
    length.push(byte);
  } while (n > 0);
  return Buffer.concat([Buffer.from([header, ...length]), body]);
}
