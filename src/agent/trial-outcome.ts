import { unlink } from 'node:fs/promises';
import type { AgentLogger } from './agent-logger.js';
import { findApp, removeApp, runningApp, type AppRecord } from './app-model.js';
import { OTA_REASONS, type OtaReason } from './ota-reasons.js';
import { enqueueReport } from './report-outbox.js';
import type { StateStore } from './state-store.js';

/**
 * The end of a trial. Both outcomes change the apps and queue the report in one atomic write,
 * so after a power cut the device holds either the trial or its settled result, never half.
 */

/** The new app stayed healthy: it becomes the autorun app and the old app is deleted. */
export async function commitTrial(store: StateStore, log: AgentLogger): Promise<void> {
  let deleted: AppRecord | undefined;
  await store.update((s) => {
    const trial = s.trial!;
    s.autorun = trial.newAppId;
    // -1: the OTA argument that keeps the old app (TIJOS.md).
    if (trial.oldAppId !== -1 && trial.oldAppId !== trial.newAppId) {
      deleted = removeApp(s, trial.oldAppId);
    }
    s.trial = null;
    const app = findApp(s, trial.newAppId)!;
    enqueueReport(s, { cmd: trial.cmd, state: 'succeeded', code: 0, version: app.version });
  });
  if (deleted?.file) await unlink(store.resolve(deleted.file)).catch(() => undefined);
  const version = runningApp(store.state).version;
  log.info({ version, deleted: deleted?.id }, 'new app committed');
}

/** The new app failed or the device restarted in the window: the old app stays, the new goes. */
export async function rollBackTrial(
  store: StateStore,
  reason: OtaReason,
  detail: string,
  log: AgentLogger,
): Promise<void> {
  let dropped: AppRecord | undefined;
  await store.update((s) => {
    const trial = s.trial!;
    dropped = removeApp(s, trial.newAppId);
    s.trial = null;
    // The version reported is the one this boot runs (the autorun app), never a cached one.
    const version = runningApp(s).version;
    const code = OTA_REASONS[reason].code;
    enqueueReport(s, { cmd: trial.cmd, state: 'rolled_back', code, reason, version, detail });
  });
  if (dropped?.file) await unlink(store.resolve(dropped.file)).catch(() => undefined);
  log.warn({ reason, version: runningApp(store.state).version }, 'rolled back');
}
