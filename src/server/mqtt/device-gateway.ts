import DataLoader from 'dataloader';
import { Counter, type Registry } from 'prom-client';
import {
  parseDeviceTopic,
  parseHello,
  parsePresence,
  parseStatus,
  PayloadError,
} from '../../shared/protocol/index.js';
import type { DeviceReportHandler } from '../domain/device-report-handler.js';
import type { DeviceService } from '../domain/device-service.js';
import type { Logger } from '../log.js';
import { ConcurrencyLimit } from './concurrency-limit.js';
import type { DeviceMessage, MessageBus } from './message-bus.js';

const HANDLED_AT_ONCE = 4096;

/**
 * Routes device → server messages to the domain. A malformed message is logged and counted,
 * never thrown: one bad device must not disturb the others. Messages of one device are handled
 * in arrival order.
 */
export class DeviceGateway {
  readonly #chains = new Map<string, Promise<void>>();
  /**
   * Devices handled at once. Handling a message reads nothing on its own: it waits for the
   * group commit that decides it (device-activity-writer.ts), so this bounds a commit's size.
   */
  readonly #limit = new ConcurrencyLimit(HANDLED_AT_ONCE);
  readonly #rowIds = new Map<string, number>();
  /** The first messages of many devices (a fleet reconnecting) look their rows up together. */
  readonly #rowIdLoader: DataLoader<string, number | null>;
  readonly #received: Counter<'kind'>;
  readonly #handled: Counter<'kind'>;
  readonly #dropped: Counter<'reason'>;

  constructor(
    bus: MessageBus,
    private readonly devices: DeviceService,
    private readonly reports: DeviceReportHandler,
    private readonly log: Logger,
    metrics: Registry,
  ) {
    this.#received = new Counter({
      name: 'tiota_device_messages_total',
      help: 'Device messages received, by kind',
      labelNames: ['kind'],
      registers: [metrics],
    });
    // Counted when the handler finished, so a benchmark can tell throughput from backlog.
    this.#handled = new Counter({
      name: 'tiota_device_messages_handled_total',
      help: 'Device messages whose handling finished (stored and acted on), by kind',
      labelNames: ['kind'],
      registers: [metrics],
    });
    this.#dropped = new Counter({
      name: 'tiota_device_messages_dropped_total',
      help: 'Device messages dropped, by reason',
      labelNames: ['reason'],
      registers: [metrics],
    });
    this.#rowIdLoader = new DataLoader(
      async (ids) => {
        const found = await devices.rowIdsOf(ids);
        return ids.map((id) => found.get(id) ?? null);
      },
      // Found rows are kept in #rowIds; an unknown device may enroll later, so nothing else is.
      { cache: false, maxBatchSize: 500 },
    );
    bus.onDeviceMessage((message) => this.#enqueue(message));
  }

  /** Resolves when every message received so far has been handled (tests, shutdown). */
  async drain(): Promise<void> {
    while (this.#chains.size > 0) await Promise.all([...this.#chains.values()]);
    await this.devices.flush();
  }

  #enqueue(message: DeviceMessage): void {
    const topic = parseDeviceTopic(message.topic);
    if (!topic) {
      this.#dropped.inc({ reason: 'bad_topic' });
      return;
    }
    const previous = this.#chains.get(topic.deviceId) ?? Promise.resolve();
    const next = previous
      .then(() => this.#limit.run(() => this.#handle(topic.deviceId, topic.kind, message.payload)))
      .catch((error: unknown) => {
        this.#dropped.inc({ reason: 'handler_error' });
        this.log.error({ err: error, deviceId: topic.deviceId }, 'device message failed');
      })
      .finally(() => {
        if (this.#chains.get(topic.deviceId) === next) this.#chains.delete(topic.deviceId);
      });
    this.#chains.set(topic.deviceId, next);
  }

  async #handle(deviceId: string, kind: string, payload: Buffer): Promise<void> {
    const rowId = await this.#rowId(deviceId);
    if (rowId === null) {
      this.#dropped.inc({ reason: 'unknown_device' });
      return;
    }
    this.#received.inc({ kind });
    try {
      if (kind === 'hello') await this.reports.hello(rowId, deviceId, parseHello(payload));
      else if (kind === 'status') await this.reports.status(rowId, parseStatus(payload));
      else if (kind === 'presence') {
        await this.devices.recordPresence(rowId, parsePresence(payload).online, Date.now());
      }
      this.#handled.inc({ kind });
    } catch (error) {
      if (!(error instanceof PayloadError)) throw error;
      this.#dropped.inc({ reason: 'malformed' });
      this.log.info({ deviceId, kind, problem: error.message }, 'malformed device message dropped');
    }
  }

  async #rowId(deviceId: string): Promise<number | null> {
    const cached = this.#rowIds.get(deviceId);
    if (cached !== undefined) return cached;
    const rowId = await this.#rowIdLoader.load(deviceId);
    if (rowId !== null) this.#rowIds.set(deviceId, rowId);
    return rowId;
  }
}
