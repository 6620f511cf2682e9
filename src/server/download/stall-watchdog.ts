import { performance } from 'node:perf_hooks';

import type { Transfer } from './transfer.js';

/**
 * Cuts downloads that stopped moving, so that dead or stalled clients cannot hold the slots
 * of the download caps (a TiJOS device gives up after 60 s anyway). One timer for all
 * transfers: a request pays a Set insert, not a timer of its own.
 */
export class StallWatchdog {
  readonly #active = new Set<Transfer>();
  readonly #timer: NodeJS.Timeout;

  constructor(
    /** A transfer without progress for this long is cut (ms). */
    readonly stallTimeoutMs: number,
    onStall: (t: Transfer) => void,
  ) {
    const every = Math.max(50, Math.min(1000, stallTimeoutMs / 4));
    this.#timer = setInterval(() => {
      const oldest = performance.now() - stallTimeoutMs;
      for (const t of this.#active) {
        if (t.lastProgressMs < oldest) {
          this.#active.delete(t);
          onStall(t);
        }
      }
    }, every);
    this.#timer.unref();
  }

  watch(t: Transfer): void {
    this.#active.add(t);
  }

  forget(t: Transfer): void {
    this.#active.delete(t);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#active.clear();
  }
}
