/**
 * Counts failures per key (e.g. username + IP) in a sliding window and blocks the key once it
 * has `maxFailures` of them, until the oldest leaves the window. In memory and per replica:
 * with N replicas behind a balancer an attacker gets at most N times the budget, which still
 * leaves password guessing hopeless (docs/security.md, "Login").
 */
export interface AttemptLimiterOptions {
  /** Failures allowed in the window; the next attempt is refused. */
  readonly maxFailures: number;
  /** Window length, milliseconds. */
  readonly windowMs: number;
  /**
   * Keys remembered at most; the least recently failed are forgotten first, so a flood of
   * made-up usernames cannot exhaust memory. Default 100,000.
   */
  readonly maxKeys?: number;
}

export class AttemptLimiter {
  /** Failure times per key, oldest first; Map order is least recently failed first. */
  readonly #failures = new Map<string, number[]>();
  readonly #maxKeys: number;

  constructor(private readonly options: AttemptLimiterOptions) {
    this.#maxKeys = options.maxKeys ?? 100_000;
  }

  /** Seconds until `key` may try again; 0 when it may try now. */
  retryAfter(key: string, now: number): number {
    const times = this.#recent(key, now);
    if (times.length < this.options.maxFailures) return 0;
    const freeAt = times[times.length - this.options.maxFailures] + this.options.windowMs;
    return Math.max(1, Math.ceil((freeAt - now) / 1000));
  }

  /** Records a failure; true when this one used up the budget (the key is now blocked). */
  fail(key: string, now: number): boolean {
    const times = this.#recent(key, now);
    times.push(now);
    this.#failures.delete(key);
    this.#failures.set(key, times.slice(-this.options.maxFailures));
    if (this.#failures.size > this.#maxKeys) {
      const oldest = this.#failures.keys().next().value;
      if (oldest !== undefined) this.#failures.delete(oldest);
    }
    return times.length === this.options.maxFailures;
  }

  /** Takes back the latest failure of a key (an attempt counted early that succeeded). */
  forgive(key: string): void {
    const times = this.#failures.get(key);
    times?.pop();
    if (times?.length === 0) this.#failures.delete(key);
  }

  /** Forgets a key's failures (after a success). */
  reset(key: string): void {
    this.#failures.delete(key);
  }

  #recent(key: string, now: number): number[] {
    const times = this.#failures.get(key);
    if (!times) return [];
    const recent = times.filter((t) => now - t < this.options.windowMs);
    if (recent.length === 0) this.#failures.delete(key);
    return recent;
  }
}
