import v8 from 'node:v8';

/**
 * Bounds how far V8 lets the heap grow past the live data before its next full collection.
 *
 * V8 picks that factor itself after each full collection, from 1.1 up to 4, and picks the top
 * of the range when garbage is made fast and collected cheaply. That is exactly a server under
 * a storm of device reconnects or reports: with the embedded broker holding 10,000 devices,
 * about 100 MiB of live objects let the heap reach 370 MiB before V8 collected it, and the
 * process peaked above 500 MiB resident (docs/benchmarks.md, end-to-end rollout). A fixed
 * factor of 2, the most V8 itself allows on memory-constrained devices, kept that run near
 * 350 MiB at no measurable cost in throughput: the live data is small, so a full collection
 * is cheap.
 *
 * It is a process-wide V8 setting, so it is applied by the process that runs the server
 * (`tiota server`), not by startServer(), which tests also call inside their own processes.
 * V8 reads the setting at every full collection, so setting it after start takes effect.
 */
export function setHeapGrowth(percent: number): void {
  // 0 hands the choice back to V8 (its own default for this setting).
  v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}
