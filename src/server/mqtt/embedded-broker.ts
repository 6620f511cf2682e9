import { Aedes, type Client } from 'aedes';
import net from 'node:net';
import { parseDeviceTopic, presenceTopic, TOPIC_ROOT } from '../../shared/protocol/topics.js';
import type { DeviceService } from '../domain/device-service.js';
import type { Logger } from '../log.js';
import type { DeviceMessage, MessageBus } from './message-bus.js';
import { listenOrExplain } from '../net/listen.js';

/** MQTT CONNACK return code 4: bad user name or password [MQTT-3.2.2-3]. */
const BAD_CREDENTIALS = 4;

interface DeviceIdentity {
  readonly deviceId: string;
  readonly rowId: number;
}

const identities = new WeakMap<Client, DeviceIdentity>();

/**
 * The embedded default: an Aedes broker in the server process. Devices authenticate with the
 * credentials from registration and may touch only their own subtree; the server itself
 * publishes and subscribes in-process, without a client connection.
 */
export class EmbeddedBroker implements MessageBus {
  readonly #connected = new Map<string, Client>();
  #handler: (message: DeviceMessage) => void = () => undefined;

  private constructor(
    private readonly aedes: Aedes,
    private readonly server: net.Server,
    private readonly log: Logger,
  ) {}

  static async start(options: {
    host: string;
    port: number;
    devices: DeviceService;
    log: Logger;
  }): Promise<EmbeddedBroker> {
    const aedes = await Aedes.createBroker({ id: 'tiota-embedded' });
    const server = net.createServer(aedes.handle);
    const broker = new EmbeddedBroker(aedes, server, options.log);
    broker.#authorize(options.devices);
    broker.#watch();
    await listenOrExplain(server, options.host, options.port, {
      what: 'embedded MQTT broker',
      flag: '--mqtt-port',
      env: 'TIOTA_MQTT_PORT',
      hint: 'or use an external broker with --mqtt-url',
    });
    return broker;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  get connectedCount(): number {
    return this.#connected.size;
  }

  #authorize(devices: DeviceService): void {
    this.aedes.authenticate = (client, username, password, done) => {
      const fail = () => {
        const error = Object.assign(new Error('bad user name or password'), {
          returnCode: BAD_CREDENTIALS,
        });
        done(error as any, false);
      };
      if (!username || !password) return fail();
      devices
        .authenticate(username, password.toString())
        .then((rowId) => {
          if (rowId === null) return fail();
          identities.set(client, { deviceId: username, rowId });
          done(null, true);
        })
        .catch(() => fail());
    };
    this.aedes.authorizePublish = (client, packet, done) => {
      if (!client) return done(null); // the server's own in-process publish
      const identity = identities.get(client);
      const topic = parseDeviceTopic(packet.topic);
      const own = identity && topic && topic.deviceId === identity.deviceId && topic.kind !== 'cmd';
      if (!own || packet.retain) {
        return done(new Error(`publish to ${packet.topic} is not allowed for this device`));
      }
      done(null);
    };
    this.aedes.authorizeSubscribe = (client, subscription, done) => {
      const identity = identities.get(client);
      const allowed = identity && subscription.topic === `${TOPIC_ROOT}/${identity.deviceId}/cmd`;
      // null grants nothing: the device gets SUBACK 0x80 (failure) for that filter.
      done(null, allowed ? subscription : null);
    };
  }

  #watch(): void {
    for (const kind of ['hello', 'status', 'presence']) {
      this.aedes.subscribe(
        `${TOPIC_ROOT}/+/${kind}`,
        (packet, done) => {
          this.#deliver({ topic: packet.topic, payload: Buffer.from(packet.payload as Buffer) });
          // Not done() in this stack: when Aedes has more publishes queued than its
          // concurrency, a synchronous done() makes mqemitter run the next one inside this call,
          // and 10,000 devices reporting at once overflowed the stack (bench:rollout crash).
          process.nextTick(done);
        },
        () => undefined,
      );
    }
    this.aedes.on('clientReady', (client) => {
      const identity = identities.get(client);
      if (identity) this.#connected.set(identity.deviceId, client);
    });
    // Presence from the connection itself, for devices that set no last will.
    this.aedes.on('clientDisconnect', (client) => {
      const identity = identities.get(client);
      if (!identity || this.#connected.get(identity.deviceId) !== client) return;
      this.#connected.delete(identity.deviceId);
      this.#deliver({
        topic: presenceTopic(identity.deviceId),
        payload: Buffer.from('{"online":false}'),
      });
    });
    this.aedes.on('clientError', (client, error) => {
      this.log.debug({ clientId: client.id, err: error.message }, 'mqtt client error');
    });
  }

  #deliver(message: DeviceMessage): void {
    try {
      this.#handler(message);
    } catch (error) {
      this.log.error({ err: error, topic: message.topic }, 'device message handler threw');
    }
  }

  onDeviceMessage(handler: (message: DeviceMessage) => void): void {
    this.#handler = handler;
  }

  publish(topic: string, payload: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.aedes.publish(
        {
          cmd: 'publish',
          topic,
          payload: Buffer.from(payload),
          qos: 1,
          retain: false,
          dup: false,
        } as any,
        (error?: Error) => (error ? reject(error) : resolve()),
      );
    });
  }

  disconnect(deviceId: string): void {
    this.#connected.get(deviceId)?.close();
  }

  async close(): Promise<void> {
    for (const client of this.#connected.values()) client.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
  }
}
