import { performance } from 'node:perf_hooks';

import type { Transfer } from './transfer.js';

/**
 * Cuts downloads that stopped moving, so that dead or stalled clients cannot hold the slots
 * of the download caps (a TiJOS device gives up after 60 s anyway). One timer for all
 * transfers, which are kept in an intrusive list: watching and forgetting cost two pointer
 * updates, no hashing and no allocation.
 */
export class StallWatchdog {
  #head: Transfer | undefined;
  readonly #timer: NodeJS.Timeout;

  constructor(
    /** A transfer without progress for this long is cut (ms). */
    readonly stallTimeoutMs: number,
    onStall: (t: Transfer) => void,
  ) {
    const every = Math.max(50, Math.min(1000, stallTimeoutMs / 4));
    this.#timer = setInterval(() => {
      const oldest = performance.now() - stallTimeoutMs;
      for (let t = this.#head; t !== undefined;) {
        const next = t.watchNext;
        if (t.lastProgressMs < oldest) {
          this.forget(t);
          onStall(t);
        }
        t = next;
      }
    }, every);
    this.#timer.unref();
  }

  watch(t: Transfer): void {
    t.watchPrev = undefined;
    t.watchNext = this.#head;
    if (this.#head !== undefined) this.#head.watchPrev = t;
    this.#head = t;
    t.watched = true;
  }

  forget(t: Transfer): void {
    if (!t.watched) return;
    t.watched = false;
    if (t.watchPrev !== undefined) t.watchPrev.watchNext = t.watchNext;
    else this.#head = t.watchNext;
    if (t.watchNext !== undefined) t.watchNext.watchPrev = t.watchPrev;
    t.watchPrev = t.watchNext = undefined;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#head = undefined;
  }
}
