/** The management-API steps every benchmark shares: a package, a rollout, waiting for it. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO } from './bundle.js';
import type { ServerProcess } from './server-process.js';

export const FIXTURE = path.resolve(REPO, '../shared/fixtures/tapk/tijos-http-ota.tapk');
export const FIXTURE_APP = 'tijos-http-ota';

export async function uploadFixture(
  server: ServerProcess,
  version: string,
): Promise<{ id: number }> {
  const bytes = await readFile(FIXTURE);
  return server.api(
    'POST',
    `/packages?version=${version}&fileName=tijos-http-ota.tapk`,
    new Uint8Array(bytes),
  );
}

/**
 * Settings that put every device in one batch with no canary and no soak. The rollout
 * settings are growing (canary, strategies); older servers know only `batchSize`.
 */
const ONE_BATCH_CANDIDATES = [
  { canary: 0, batchStrategy: 'fixed', batchSize: 0, soakSeconds: 0 },
  { batchSize: 0 },
];

export async function oneBatchSettings(server: ServerProcess, packageId: number, target: unknown) {
  for (const settings of ONE_BATCH_CANDIDATES) {
    const plan = await server
      .api<{ batches: unknown[] }>('POST', '/rollouts', {
        packageId,
        target,
        settings,
        dryRun: true,
      })
      .catch(() => null);
    if (plan && plan.batches.length === 1) return settings;
  }
  throw new Error('no known rollout settings put every device in one batch');
}

export interface RolloutCounts {
  readonly status: string;
  readonly counts: Record<string, number>;
  readonly batches: { batch: number; size: number; counts: Record<string, number> }[];
  readonly currentBatch: number;
  readonly pauseReason: string | null;
}

/** Polls the rollout until `done` says so or the time is up; returns the last view. */
export async function watchRollout(
  server: ServerProcess,
  id: number,
  done: (view: RolloutCounts) => boolean,
  timeoutMs: number,
  pollMs = 200,
): Promise<{ view: RolloutCounts; timedOut: boolean }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await viewOf(server, id);
    if (done(view)) return { view, timedOut: false };
    if (Date.now() > deadline) return { view, timedOut: true };
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** One read of the rollout; a dropped connection is retried (the server is under load). */
async function viewOf(server: ServerProcess, id: number): Promise<RolloutCounts> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await server.api<RolloutCounts>('GET', `/rollouts/${id}`);
    } catch (error) {
      if (attempt >= 5) throw error;
      console.warn(`  reading rollout ${id} failed (${(error as Error).message}); retrying`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** Reads one Prometheus counter (summed over labels matching `labels`) from /metrics. */
export async function metric(server: ServerProcess, name: string, labels = ''): Promise<number> {
  const response = await fetch(`${server.httpUrl}/metrics`, {
    headers: { authorization: `Bearer ${server.token}` },
  });
  const text = await response.text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (labels && !line.includes(labels))) continue;
    const [key, value] = line.split(' ');
    if (key === name || key.startsWith(`${name}{`)) sum += Number(value);
  }
  return sum;
}
