import mqtt, { type MqttClient } from 'mqtt';
import { TOPIC_ROOT } from '../../shared/protocol/topics.js';
import type { Logger } from '../log.js';
import type { DeviceMessage, MessageBus } from './message-bus.js';

/** Replicas share one group, so each device message is handled by exactly one of them. */
export const SHARED_GROUP = 'tiota-server';

/**
 * The server as a client of an external broker (Mosquitto, EMQX, HiveMQ). The broker enforces
 * device credentials and ACLs (docs/deploy.md); the server's own account may publish to every
 * device's cmd topic and read every device's reports.
 */
export class ExternalBrokerBus implements MessageBus {
  #handler: (message: DeviceMessage) => void = () => undefined;

  private constructor(
    private readonly client: MqttClient,
    private readonly log: Logger,
  ) {}

  static async connect(url: string, replicaId: string, log: Logger): Promise<ExternalBrokerBus> {
    const client = await mqtt.connectAsync(url, {
      clientId: `tiota-server-${replicaId}`.slice(0, 64),
      protocolVersion: 5,
      clean: true,
      reconnectPeriod: 1000,
    });
    const bus = new ExternalBrokerBus(client, log);
    client.on('message', (topic, payload) => {
      try {
        bus.#handler({ topic, payload });
      } catch (error) {
        log.error({ err: error, topic }, 'device message handler threw');
      }
    });
    client.on('error', (error) => log.warn({ err: error.message }, 'mqtt connection error'));
    const filters = ['hello', 'status', 'presence'].map((k) => `$share/${SHARED_GROUP}/${TOPIC_ROOT}/+/${k}`);
    await client.subscribeAsync(filters, { qos: 1 });
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
    // An external broker cuts the device off when its credentials are removed (docs/deploy.md).
    this.log.info({ deviceId }, 'device revoked; broker credentials must be removed to disconnect it');
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}
