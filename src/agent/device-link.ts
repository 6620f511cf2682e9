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
  /** The connection closed (dropped, refused or ended). */
  readonly onClosed?: () => void;
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
  /** Counts CONNACKs, so a failed session setup cannot cut a newer connection. */
  #generation = 0;

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
      const generation = ++this.#generation;
      o.log.info('mqtt connected');
      o.onConnected().catch((error: unknown) => {
        // Only this connection's failure counts: a later one runs its own setup.
        if (this.#stopped || generation !== this.#generation || !client.connected) return;
        o.log.warn({ err: String(error) }, 'session setup failed: reconnecting');
        client.stream.destroy();
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
    client.on('close', () => {
      // Clean session: the outbox resends what matters, so mqtt.js must not hold on to
      // unacknowledged messages (a graceful end() would wait for them forever).
      for (const id of Object.keys(client.outgoing)) client.removeOutgoingMessage(Number(id));
      o.onClosed?.();
      this.#scheduleReconnect();
    });
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

  /**
   * QoS 1 publish; resolves on PUBACK. Rejects when not connected, or when the connection
   * drops or `ackTimeoutMs` passes before the PUBACK: a clean session keeps nothing across a
   * reconnect, so the caller (the report outbox) sends it again on the next connection.
   */
  publish(topic: string, payload: string, ackTimeoutMs = 30_000): Promise<void> {
    const client = this.#client;
    if (!client?.connected) return Promise.reject(new Error('not connected'));
    return new Promise((resolve, reject) => {
      const settle = (error?: Error): void => {
        client.off('close', onClose);
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      const onClose = (): void => settle(new Error('connection closed before PUBACK'));
      const timer = setTimeout(() => settle(new Error('no PUBACK in time')), ackTimeoutMs);
      client.once('close', onClose);
      client.publish(topic, payload, { qos: 1 }, (error) => settle(error ?? undefined));
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
