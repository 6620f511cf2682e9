import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { DeviceAgent, type DeviceAgentOptions } from '../../../src/agent/index.js';

/** TIOTA_TEST_LOG=debug prints the agents' logs while a test runs. */
const testLogger = process.env.TIOTA_TEST_LOG
  ? pino({ level: process.env.TIOTA_TEST_LOG })
  : undefined;

let counter = 0;

/**
 * Runs a DeviceAgent as a device would live: `restart` builds a brand-new agent on the same
 * data folder (nothing carried over in memory), as the CLI supervisor does with a new process.
 */
export class DeviceHarness {
  agent!: DeviceAgent;
  boots = 0;
  readonly deviceId: string;
  #stopped = false;
  #booting: Promise<void> = Promise.resolve();

  private constructor(
    readonly dataDir: string,
    private readonly options: Omit<DeviceAgentOptions, 'restart' | 'dataDir'>,
    private readonly onBoot: (agent: DeviceAgent) => void,
  ) {
    this.deviceId = options.credentials.deviceId;
  }

  static async start(
    options: Omit<DeviceAgentOptions, 'restart' | 'dataDir' | 'credentials'> & {
      mqttUrl: string;
      signingPublicKey: string;
      deviceId?: string;
      /** Called with every new agent before it starts (to listen to its events). */
      onBoot?: (agent: DeviceAgent) => void;
    },
  ): Promise<DeviceHarness> {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tiota-agent-'));
    const deviceId = options.deviceId ?? `dev-${process.pid}-${++counter}`;
    const { mqttUrl, signingPublicKey, onBoot, ...rest } = options;
    const harness = new DeviceHarness(
      dataDir,
      {
        initialApp: { name: 'demo-app', version: '1.0.0' },
        healthWindowMs: 300,
        logger: testLogger,
        mqtt: { backoff: { baseMs: 50, maxMs: 200 } },
        download: { backoff: { baseMs: 10, maxMs: 20 } },
        ...rest,
        credentials: {
          deviceId,
          mqttUrl,
          username: deviceId,
          password: 'secret',
          signingPublicKey,
        },
      },
      onBoot ?? (() => undefined),
    );
    await harness.#boot();
    return harness;
  }

  async #boot(): Promise<void> {
    this.boots += 1;
    this.agent = new DeviceAgent({
      ...this.options,
      dataDir: this.dataDir,
      restart: () => {
        this.#booting = new Promise((r) => setTimeout(r, 50)).then(() => {
          if (!this.#stopped) return this.#boot();
        });
      },
    });
    this.onBoot(this.agent);
    await this.agent.start();
  }

  /** Power cut: the agent stops where it is; the next boot reads only the folder. */
  async powerCycle(): Promise<void> {
    await this.agent.stop();
    await this.#boot();
  }

  async close(): Promise<void> {
    this.#stopped = true;
    await this.#booting;
    await this.agent.stop();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}
