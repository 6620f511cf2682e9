import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { AgentLogger } from './agent-logger.js';
import { DEFAULT_BACKOFF, backoffDelay, type BackoffPolicy } from './backoff.js';

export interface DeviceLinkOptions {
  readonly url: string;
  readonly clientId: string;
  readonly username: string;
  readonly password: string;
  /** Last will: published by the broker when the connection drops without DISCONNECT. */
  readonly will: { readonly topic: string; readonly payload: string };
  /** MQTT keepalive, seconds (default 60). */
  readonly keepaliveSeconds?: number;
  /** Time allowed for CONNACK, milliseconds (default 15000). */
  readonly connectTimeoutMs?: number;
  /** Spacing of reconnects (default 1 s doubling to 60 s, with jitter). */
  readonly backoff?: BackoffPolicy;
  readonly log: AgentLogger;
  /** Runs after every CONNACK, before commands are taken (hello, pending reports, subscribe). */
  readonly onConnected: () => Promise<void>;
  readonly onMessage: (topic: string, payload: Buffer) => void;
  /** A refused CONNACK, with its MQTT return code (3 = server unavailable, 4/5 = not allowed). */
  readonly onRefused?: (returnCode: number) => void;
}

/**
 * The device's MQTT connection: clean session (the broker keeps nothing; the retained command
 * is delivered anew on every connect), QoS 1, and reconnects spaced by backoff with jitter
 * rather than mqtt.js's fixed period, so a fleet that lost its broker does not return at once.
 */
export class DeviceLink {
  readonly #o: DeviceLinkOptions;
  #client: MqttClient | null = null;
  #attempt = 0;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(options: DeviceLinkOptions) {
    this.#o = options;
  }

  get connected(): boolean {
    return this.#client?.connected ?? false;
  }

  start(): void {
    const o = this.#o;
    const options: IClientOptions = {
      clientId: o.clientId,
      username: o.username,
      password: o.password,
      clean: true,
      protocolVersion: 4,
      keepalive: o.keepaliveSeconds ?? 60,
      connectTimeout: o.connectTimeoutMs ?? 15_000,
      reconnectPeriod: 0,
      will: { topic: o.will.topic, payload: Buffer.from(o.will.payload), qos: 1, retain: false },
    };
    const client = mqtt.connect(o.url, options);
    this.#client = client;
    client.on('connect', () => {
      this.#attempt = 0;
      o.log.info('mqtt connected');
      o.onConnected().catch((error: unknown) => {
        o.log.warn({ err: String(error) }, 'session setup failed: reconnecting');
        if (!this.#stopped && client.connected) client.end(true);
      });
    });
    client.on('message', (topic, payload) => o.onMessage(topic, payload));
    client.on('error', (error: Error & { code?: unknown }) => {
      if (typeof error.code === 'number') {
        o.log.warn({ returnCode: error.code }, 'mqtt connection refused');
        o.onRefused?.(error.code);
      } else {
        o.log.info({ err: error.message }, 'mqtt error');
      }
    });
    client.on('close', () => this.#scheduleReconnect());
  }

  #scheduleReconnect(): void {
    if (this.#stopped || this.#timer) return;
    const delay = backoffDelay(this.#attempt++, this.#o.backoff ?? DEFAULT_BACKOFF);
    this.#o.log.debug({ delay }, 'mqtt reconnect scheduled');
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (!this.#stopped) this.#client?.reconnect();
    }, delay);
  }

  /** QoS 1 publish; resolves on PUBACK, rejects when the connection is down or drops first. */
  publish(topic: string, payload: string): Promise<void> {
    const client = this.#client;
    if (!client?.connected) return Promise.reject(new Error('not connected'));
    return new Promise((resolve, reject) => {
      client.publish(topic, payload, { qos: 1 }, (error) => (error ? reject(error) : resolve()));
    });
  }

  subscribe(topic: string): Promise<void> {
    const client = this.#client;
    if (!client?.connected) return Promise.reject(new Error('not connected'));
    return new Promise((resolve, reject) => {
      client.subscribe(topic, { qos: 1 }, (error, granted) => {
        if (error) return reject(error);
        // 128 in SUBACK: the broker refused (ACL).
        if (granted?.some((g) => g.qos === 128))
          return reject(new Error(`subscription to ${topic} refused`));
        resolve();
      });
    });
  }

  /**
   * Closes the connection. `abrupt` drops it without DISCONNECT, as a power cut or reboot
   * would, so the broker publishes the last will.
   */
  async stop(abrupt = false): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    const client = this.#client;
    if (!client) return;
    await new Promise<void>((resolve) => client.end(abrupt, {}, () => resolve()));
  }
}
