import { Registry, collectDefaultMetrics, type Metric } from 'prom-client';

/**
 * prom-client's default metrics that walk every handle or file descriptor of the process on
 * each scrape. With tens of thousands of device sockets open, one scrape of these blocks the
 * event loop for tens of milliseconds (hundreds at 100,000 devices), delaying every device
 * message behind it. The CPU, memory, event-loop and GC metrics stay.
 */
const PER_HANDLE_METRICS = new Set([
  'process_open_fds',
  'nodejs_active_handles',
  'nodejs_active_handles_total',
  'nodejs_active_requests',
  'nodejs_active_requests_total',
  'nodejs_active_resources',
  'nodejs_active_resources_total',
]);

/** Registers the default process metrics on `registry`, less the ones that scale with the fleet. */
export function registerProcessMetrics(registry: Registry): void {
  const defaults = new Registry();
  collectDefaultMetrics({ register: defaults });
  // getMetricsAsArray() is typed as plain descriptions but holds the metric instances.
  for (const metric of defaults.getMetricsAsArray() as unknown as Metric[]) {
    const { name } = metric as unknown as { name: string };
    if (!PER_HANDLE_METRICS.has(name)) registry.registerMetric(metric);
  }
}
