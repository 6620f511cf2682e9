import type { ChunkShaper } from '../agent/index.js';
import type { DeviceFaults } from './fault-plan.js';
import type { Random } from './seeded-random.js';

/** Longest single wait, ms: a cut, a deadline or an offline spell is noticed this fast. */
const SLICE_MS = 250;

/**
 * A device's network link as the simulator models it: a fixed speed (bytes leave the link no
 * faster than `bytesPerSecond`), a drop hazard spread evenly over the bytes (so a response of
 * `referenceBytes` is cut with probability `dropRate`), and no traffic at all while offline.
 * One per device, shared by every response it receives.
 */
export class SimulatedLink {
  #freeAt = 0;

  constructor(
    private readonly faults: DeviceFaults,
    private readonly random: Random,
    private readonly referenceBytes: () => number,
    private readonly isOffline: () => boolean,
  ) {}

  /** Whether responses need shaping at all (unshaped downloads skip the per-chunk work). */
  get active(): boolean {
    const f = this.faults;
    return f.bytesPerSecond !== null || f.dropRate > 0 || f.offlineAtMs !== null;
  }

  readonly shape: ChunkShaper = async (chunk, cut, dead) => {
    if (this.isOffline()) {
      cut();
      return 0;
    }
    const dropAt = this.#dropPoint(chunk.length);
    const arriving = dropAt ?? chunk.length;
    const bps = this.faults.bytesPerSecond;
    if (bps !== null) {
      this.#freeAt = Math.max(Date.now(), this.#freeAt) + (arriving / bps) * 1000;
      while (Date.now() < this.#freeAt) {
        if (dead()) return 0;
        if (this.isOffline()) {
          cut();
          return 0;
        }
        await new Promise((r) => setTimeout(r, Math.min(SLICE_MS, this.#freeAt - Date.now())));
      }
    }
    if (dropAt !== null) cut();
    return arriving;
  };

  /** Where in a chunk of `bytes` the connection drops, or null when it does not. */
  #dropPoint(bytes: number): number | null {
    const rate = this.faults.dropRate;
    if (rate <= 0) return null;
    const share = Math.min(1, bytes / Math.max(1, this.referenceBytes()));
    if (this.random() >= 1 - (1 - rate) ** share) return null;
    return Math.floor(this.random() * bytes);
  }
}
