/**
 * A simulated device's pending timers (restarts, outages): all of them end with the device,
 * and none fires after it was stopped.
 */
export class DeviceTimers {
  #stopped = false;
  readonly #timers = new Set<NodeJS.Timeout>();

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Runs `run` in `ms`, unless the device is stopped by then. */
  later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (!this.#stopped) run();
    }, ms);
    this.#timers.add(timer);
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}
