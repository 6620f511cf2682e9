/**
 * A child process holding a slice of the simulated fleet (one process can only hold ~20,000
 * sockets here, and two cores want the load split). Driven over IPC by fleet.ts.
 */
import { SimDevice, type DeviceSetup } from './sim-device.js';
import type { ToWorker, FromWorker, WorkerStats } from './fleet-messages.js';

let devices: SimDevice[] = [];
let connected = 0;
let received = 0;
let lastReceivedAt = 0;
let firstReceivedAt = 0;
let downloadsOk = 0;
let downloadsFailed = 0;
let downloadMsTotal = 0;
let restarted = 0;
let restartedOnNew = 0;
let pingTimer: NodeJS.Timeout | null = null;

const send = (message: FromWorker) => process.send!(message);

process.on('message', (message: ToWorker) => {
  if (message.type === 'start')
    void start(message.setup, message.ids, message.localAddresses, message.concurrency);
  else if (message.type === 'stats') send({ type: 'stats', stats: stats() });
  else if (message.type === 'ingest') void ingest(message.reports);
  else if (message.type === 'reset') reset();
  else if (message.type === 'stop') stop();
});

async function start(
  setup: Omit<DeviceSetup, 'localAddress'>,
  ids: string[],
  addresses: string[],
  concurrency: number,
) {
  const events = {
    command: (device: SimDevice, at: number) => {
      if (device.commands !== 1) return;
      received++;
      lastReceivedAt = Math.max(lastReceivedAt, at);
      firstReceivedAt = firstReceivedAt === 0 ? at : Math.min(firstReceivedAt, at);
      if (received === connected) send({ type: 'allReceived', at: lastReceivedAt });
    },
    downloaded: (_device: SimDevice, ok: boolean, ms: number) => {
      if (ok) downloadsOk++;
      else downloadsFailed++;
      downloadMsTotal += ms;
    },
    restarted: (_device: SimDevice, version: string) => {
      restarted++;
      if (version !== setup.version) restartedOnNew++;
    },
  };
  devices = ids.map(
    (id, i) =>
      new SimDevice(id, { ...setup, localAddress: addresses[i % addresses.length] }, events),
  );

  const started = Date.now();
  let failed = 0;
  let firstError: string | null = null;
  let next = 0;
  const lane = async () => {
    while (next < devices.length) {
      const device = devices[next++];
      try {
        await device.start();
        connected++;
      } catch (error) {
        failed++;
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  if (setup.keepaliveSeconds > 0) startPinging(setup.keepaliveSeconds);
  send({ type: 'connected', ok: connected, failed, firstError, ms: Date.now() - started });
}

/** Pings a rolling share of the devices each second, so each one pings every keepalive/2 s. */
function startPinging(keepaliveSeconds: number): void {
  const perTick = Math.ceil(devices.length / Math.max(1, Math.floor(keepaliveSeconds / 2)));
  let at = 0;
  pingTimer = setInterval(() => {
    for (let i = 0; i < perTick && devices.length > 0; i++)
      devices[at++ % devices.length].conn.ping();
  }, 1000);
}

/**
 * Each device reports `reports` statuses for its last command, one after the other (the next
 * after the broker's PUBACK), as a device reporting progress does.
 */
async function ingest(reports: number): Promise<void> {
  const startAt = Date.now();
  let acked = 0;
  let failed = 0;
  await Promise.all(
    devices.map(async (device) => {
      if (!device.lastCmd) return;
      const topic = `tiota/v1/d/${device.id}/status`;
      for (let i = 0; i < reports; i++) {
        const state =
          i === 0
            ? 'accepted'
            : i === reports - 1
              ? 'installing'
              : i === reports - 2
                ? 'downloaded'
                : 'downloading';
        const body =
          state === 'downloading'
            ? { cmd: device.lastCmd, state, bytes: i * 1024 }
            : { cmd: device.lastCmd, state };
        try {
          await device.conn.publish(topic, JSON.stringify(body));
          acked++;
        } catch {
          failed++;
        }
      }
    }),
  );
  send({ type: 'ingested', acked, failed, startAt, endAt: Date.now() });
}

function stats(): WorkerStats {
  return {
    connected,
    received,
    firstReceivedAt,
    lastReceivedAt,
    downloadsOk,
    downloadsFailed,
    downloadMsTotal,
    restarted,
    restartedOnNew,
    rssBytes: process.memoryUsage().rss,
  };
}

function reset(): void {
  received = 0;
  firstReceivedAt = 0;
  lastReceivedAt = 0;
  for (const device of devices) {
    device.commands = 0;
    device.firstCommandAt = 0;
  }
}

function stop(): void {
  if (pingTimer) clearInterval(pingTimer);
  for (const device of devices) device.conn.end();
  setTimeout(() => process.exit(0), 500).unref();
}

process.on('disconnect', () => process.exit(0));
