import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { RolloutView } from '../../server/domain/rollout-service.js';
import type { ApiClient } from '../api-client.js';
import { formatCounts } from './rollout-print.js';

/** Exit codes of `tiota rollout watch`, so scripts can wait on a rollout. */
export const WATCH_EXIT = { completed: 0, paused: 2, canceled: 3 } as const;

/** Batches shown at once: the started ones, newest last, and the next one. */
const SHOWN_BATCHES = 8;

/**
 * Follows a rollout until it completes, pauses or is canceled: on a terminal, one progress
 * bar for the whole rollout and one per batch (finished devices of the batch) with counts per
 * state; elsewhere (a pipe, CI), one line whenever the counts change.
 */
export async function watchRollout(
  client: ApiClient,
  id: number,
  intervalMs: number,
): Promise<number> {
  const view = new WatchView(Boolean(process.stdout.isTTY));
  try {
    for (;;) {
      const rollout = await client.request<RolloutView>('GET', `/rollouts/${id}`);
      view.show(rollout);
      if (rollout.status !== 'running') {
        view.stop();
        const why = rollout.pauseReason ? `: ${rollout.pauseReason}` : '';
        process.stdout.write(`rollout ${id} ${rollout.status}${why}\n`);
        return WATCH_EXIT[rollout.status];
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  } finally {
    view.stop();
  }
}

class WatchView {
  readonly #multi: MultiBar | null;
  readonly #bars = new Map<number | 'all', SingleBar>();
  #lastLine = '';

  constructor(tty: boolean) {
    this.#multi = tty
      ? new MultiBar(
          {
            format: '{label} [{bar}] {value}/{total} {counts}',
            hideCursor: true,
            clearOnComplete: false,
            stream: process.stdout,
          },
          Presets.shades_classic,
        )
      : null;
  }

  show(r: RolloutView): void {
    const finished = (counts: Partial<Record<string, number>>) =>
      ['succeeded', 'failed', 'rolled_back', 'timed_out', 'canceled'].reduce(
        (n, s) => n + (counts[s] ?? 0),
        0,
      );
    const total = r.batches.reduce((n, b) => n + b.size, 0);
    const header = `${r.status} batch ${r.currentBatch + 1}/${r.batchCount}${r.soakUntil ? ' soaking' : ''}`;
    if (!this.#multi) {
      const line = `${header} ${finished(r.counts)}/${total} ${formatCounts(r.counts)}`;
      if (line !== this.#lastLine) process.stdout.write(line + '\n');
      this.#lastLine = line;
      return;
    }
    this.#bar('all', total).update(finished(r.counts), {
      label: pad('rollout'),
      counts: `${header} ${formatCounts(r.counts)}`,
    });
    const shown = r.batches.filter((b) => b.batch <= r.currentBatch + 1).slice(-SHOWN_BATCHES);
    for (const b of shown) {
      const label = pad(`batch ${b.batch + 1}${b.canary ? '*' : ''}`);
      this.#bar(b.batch, b.size).update(finished(b.counts), {
        label,
        counts: formatCounts(b.counts),
      });
    }
    for (const [key, bar] of this.#bars) {
      if (key !== 'all' && !shown.some((b) => b.batch === key)) {
        this.#multi.remove(bar);
        this.#bars.delete(key);
      }
    }
  }

  stop(): void {
    this.#multi?.stop();
  }

  #bar(key: number | 'all', total: number): SingleBar {
    let bar = this.#bars.get(key);
    if (!bar) {
      bar = this.#multi!.create(total, 0, { label: '', counts: '' });
      this.#bars.set(key, bar);
    }
    bar.setTotal(total);
    return bar;
  }
}

function pad(text: string): string {
  return text.padEnd(10);
}
