import mqtt, { type MqttClient } from 'mqtt';
import { DEVICE_PUBLISHES, TOPIC_ROOT } from '../../shared/protocol/topics.js';
import type { Logger } from '../log.js';
import type { DeviceMessage, MessageBus } from './message-bus.js';

/** Replicas share one group, so each device message is handled by exactly one of them. */
export const SHARED_GROUP = 'tiota-server';

/** How long a starting server waits for the broker before it gives up, ms. */
export const CONNECT_WAIT_MS = 30_000;

/** SUBACK codes at or above 0x80 refuse the subscription [MQTT-3.9.3], in 3.1.1 and 5. */
const SUBACK_FAILURE = 0x80;

/**
 * The server as a client of an external broker (Mosquitto, EMQX, HiveMQ). The broker enforces
 * device credentials and ACLs (docs/deploy.md); the server's own account may publish to every
 * device's cmd topic and read every device's reports.
 *
 * Reports arrive through shared subscriptions (`$share/tiota-server/…`, MQTT 5 and Mosquitto
 * 2): the broker hands each message to one connected replica of the group. Sessions are clean,
 * so a replica that dies leaves nothing queued in its name; messages published while it is away
 * go to the replicas still connected, and mqtt.js subscribes again when it reconnects.
 * Presence comes from the devices' last will on their presence topic (docs/protocol.md).
 */
export class ExternalBrokerBus implements MessageBus {
  #handler: (message: DeviceMessage) => void = () => undefined;

  private constructor(
    private readonly client: MqttClient,
    private readonly log: Logger,
  ) {}

  static async connect(
    url: string,
    replicaId: string,
    log: Logger,
    waitMs = CONNECT_WAIT_MS,
  ): Promise<ExternalBrokerBus> {
    const client = mqtt.connect(url, {
      clientId: `tiota-server-${replicaId}`,
      protocolVersion: 5,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
    });
    const bus = new ExternalBrokerBus(client, log);
    client.on('message', (topic, payload) => bus.#deliver({ topic, payload }));
    await firstConnect(client, url, waitMs);

    client.on('error', (error) => log.warn({ err: error.message }, 'mqtt connection error'));
    client.on('offline', () => log.warn({ broker: redact(url) }, 'mqtt broker unreachable'));
    client.on('connect', () => log.info({ broker: redact(url) }, 'mqtt broker reconnected'));

    const filters = DEVICE_PUBLISHES.map(
      (kind) => `$share/${SHARED_GROUP}/${TOPIC_ROOT}/+/${kind}`,
    );
    const granted = await client.subscribeAsync(filters, { qos: 1 });
    const refused = granted.filter((g) => g.qos >= SUBACK_FAILURE).map((g) => g.topic);
    if (refused.length > 0) {
      await client.endAsync(true);
      throw new Error(
        `the broker refused the server's subscriptions ${refused.join(', ')}: its ACL must let ` +
          `the server account read and write ${TOPIC_ROOT}/# (docs/deploy.md)`,
      );
    }
    log.info({ broker: redact(url), group: SHARED_GROUP }, 'mqtt broker connected');
    return bus;
  }

  get connected(): boolean {
    return this.client.connected;
  }

  onDeviceMessage(handler: (message: DeviceMessage) => void): void {
    this.#handler = handler;
  }

  async publish(topic: string, payload: string): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1, retain: false });
  }

  disconnect(deviceId: string): void {
    // The broker cuts a revoked device off itself once its account is gone (for Mosquitto,
    // mosquitto-auth-files.ts removes it and makes Mosquitto reload).
    this.log.debug({ deviceId }, 'revoked device left to the broker to disconnect');
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }

  #deliver(message: DeviceMessage): void {
    try {
      this.#handler(message);
    } catch (error) {
      this.log.error({ err: error, topic: message.topic }, 'device message handler threw');
    }
  }
}

/**
 * Waits for the first CONNACK. Refusals are retried until `waitMs`: a broker that is starting,
 * or reloading the password file that holds the server's account, refuses for a moment.
 */
function firstConnect(client: MqttClient, url: string, waitMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let lastError = 'no answer';
    const onError = (error: Error) => (lastError = error.message);
    const onConnect = () => {
      clearTimeout(timer);
      client.off('error', onError);
      resolve();
    };
    const timer = setTimeout(() => {
      client.off('connect', onConnect);
      client.off('error', onError);
      client.end(true);
      reject(
        new Error(
          `cannot connect to the MQTT broker ${redact(url)} within ${waitMs / 1000} s ` +
            `(${lastError}); check --mqtt-url (TIOTA_MQTT_URL) and the server account's credentials`,
        ),
      );
    }, waitMs);
    client.on('error', onError);
    client.once('connect', onConnect);
  });
}

/** The broker URL without its password, for logs and errors. */
function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
