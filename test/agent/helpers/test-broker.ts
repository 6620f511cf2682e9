import net from 'node:net';
import { Aedes, type AedesOptions } from 'aedes';

export interface Published {
  readonly topic: string;
  readonly payload: string;
  readonly clientId: string | null;
}

/** A real MQTT broker (Aedes) on a free port, recording what devices publish. */
export class TestBroker {
  readonly published: Published[] = [];
  readonly url: string;
  readonly #server: net.Server;

  private constructor(
    readonly broker: Aedes,
    server: net.Server,
  ) {
    this.#server = server;
    this.url = `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    broker.on('publish', (packet, client) => {
      if (!client) return;
      this.published.push({
        topic: packet.topic,
        payload: packet.payload.toString(),
        clientId: client.id,
      });
    });
  }

  static async start(options: AedesOptions = {}): Promise<TestBroker> {
    const broker = await Aedes.createBroker(options);
    const server = net.createServer(broker.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new TestBroker(broker, server);
  }

  /** Publishes a command the way the server does: retained, QoS 1. */
  publishCommand(deviceId: string, payload: string | object): Promise<void> {
    const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
    return new Promise((resolve, reject) =>
      this.broker.publish(
        {
          cmd: 'publish',
          topic: `tiota/v1/d/${deviceId}/cmd`,
          payload: Buffer.from(text),
          qos: 1,
          retain: true,
          dup: false,
        },
        (error) => (error ? reject(error) : resolve()),
      ),
    );
  }

  /** Parsed payloads published on `tiota/v1/d/<deviceId>/<kind>`. */
  messages<T = Record<string, unknown>>(deviceId: string, kind: string): T[] {
    const topic = `tiota/v1/d/${deviceId}/${kind}`;
    return this.published.filter((m) => m.topic === topic).map((m) => JSON.parse(m.payload) as T);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.broker.close(() => resolve()));
    this.#server.closeAllConnections?.();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** Polls `probe` until it returns a value other than undefined/false (a throw counts as not yet). */
export async function waitFor<T>(
  probe: () => T | undefined | false,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    let value: T | undefined | false;
    try {
      value = probe();
    } catch {
      value = undefined;
    }
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
