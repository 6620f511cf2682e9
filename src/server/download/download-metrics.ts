import { Counter, Gauge, type Registry } from 'prom-client';

import { DOWNLOAD_REFUSALS, type DownloadRefusal } from './download-refusals.js';

/**
 * Plain counters the download path bumps; prom-client reads them only when /metrics is
 * scraped, so a request pays an integer add, not a label lookup.
 */
export class DownloadStats {
  inFlight = 0;
  bytesSent = 0;
  completed = 0;
  readonly refusals = new Map<DownloadRefusal, number>();
  overloadServer = 0;
  overloadPackage = 0;

  refused(code: DownloadRefusal): void {
    this.refusals.set(code, (this.refusals.get(code) ?? 0) + 1);
  }
}

/** Registers the download metrics (names prefixed `tiota_download`) on the caller's registry. */
export function registerDownloadMetrics(
  registry: Registry,
  stats: DownloadStats,
  memoryBytes: () => number,
): void {
  const registers = [registry];

  new Gauge({
    name: 'tiota_downloads_in_flight',
    help: 'Downloads (responses with a package body) being sent now.',
    registers,
    collect() {
      this.set(stats.inFlight);
    },
  });
  new Counter({
    name: 'tiota_download_bytes_sent_total',
    help: 'Package body bytes handed to the network, all downloads.',
    registers,
    collect() {
      setCounter(this, stats.bytesSent);
    },
  });
  new Counter({
    name: 'tiota_downloads_completed_total',
    help: 'Downloads after which the device had received the whole package.',
    registers,
    collect() {
      setCounter(this, stats.completed);
    },
  });
  new Counter({
    name: 'tiota_download_refusals_total',
    help: 'Download requests refused, by stable code (see docs: download errors).',
    labelNames: ['code', 'status'],
    registers,
    collect() {
      this.reset();
      for (const [code, n] of stats.refusals) {
        this.inc({ code, status: String(DOWNLOAD_REFUSALS[code].status) }, n);
      }
    },
  });
  new Counter({
    name: 'tiota_download_overloaded_total',
    help: 'Downloads answered 503 with Retry-After, by the cap that was full.',
    labelNames: ['cap'],
    registers,
    collect() {
      this.reset();
      this.inc({ cap: 'server' }, stats.overloadServer);
      this.inc({ cap: 'package' }, stats.overloadPackage);
    },
  });
  new Gauge({
    name: 'tiota_download_memory_cache_bytes',
    help: 'Package bytes held in the in-memory cache of small, hot packages.',
    registers,
    collect() {
      this.set(memoryBytes());
    },
  });
}

function setCounter(counter: Counter, value: number): void {
  counter.reset();
  counter.inc(value);
}
