/**
 * Runs at most `limit` tasks at once; the rest wait in arrival order. Device messages need it:
 * Kysely's SQLite driver wakes every waiting query on each unlock, so thousands of handlers in
 * flight slow each other down far worse than linearly (docs/benchmarks.md, Ingestion).
 */
export class ConcurrencyLimit {
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active >= this.limit) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#active++;
    }
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter, or free it.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#active--;
    }
  }
}
