import type { AppRecord } from './app-model.js';
import type { AppRunner, RunningApp } from './app-runner.js';
import type { OtaReason } from './ota-reasons.js';

export type HealthVerdict =
  | { readonly healthy: true }
  | { readonly healthy: false; readonly reason: OtaReason; readonly detail: string };

/**
 * Watches a freshly started app for `windowMs`: it must not exit, and the runner's health
 * check (if any) must pass at the end. Resolves early on a crash. `signal` ends the watch
 * without a verdict (the device is shutting down: the next boot decides).
 */
export async function watchHealth(
  running: RunningApp,
  app: AppRecord,
  file: string | null,
  runner: AppRunner,
  windowMs: number,
  signal: AbortSignal,
): Promise<HealthVerdict | null> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const outcome = await Promise.race([
    running.exited.then((exit) => ({ kind: 'exit' as const, exit })),
    new Promise<{ kind: 'elapsed' }>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'elapsed' }), windowMs);
    }),
    new Promise<{ kind: 'aborted' }>((resolve) => {
      onAbort = () => resolve({ kind: 'aborted' });
      if (signal.aborted) onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
    }),
  ]);
  clearTimeout(timer);
  if (onAbort) signal.removeEventListener('abort', onAbort);

  if (outcome.kind === 'aborted') return null;
  if (outcome.kind === 'exit') {
    const how = outcome.exit.signal ? `signal ${outcome.exit.signal}` : `code ${outcome.exit.code}`;
    return { healthy: false, reason: 'app_crashed', detail: `the new app exited with ${how}` };
  }
  if (runner.check && !(await runner.check(app, file))) {
    return {
      healthy: false,
      reason: 'health_check_failed',
      detail: 'the health check did not pass',
    };
  }
  return { healthy: true };
}
