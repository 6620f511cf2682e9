import { rename, truncate, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { StatusMessage } from '../shared/protocol/index.js';
import type { AgentLogger } from './agent-logger.js';
import { MAX_APPS, allocateAppId, type JobState } from './app-model.js';
import { fsyncDir } from './atomic-write.js';
import { OtaArgsError, parseOtaArgs } from './ota-args.js';
import { OtaFailure } from './ota-reasons.js';
import { download, type DownloadOptions } from './resumable-download.js';
import { APPS_DIR, type StateStore } from './state-store.js';
import { verifyPackage, type VerifiedPackage } from './verify-package.js';

/** Download settings an embedder may tune (docs/agent.md, "Downloads"). */
export type DownloadTuning = Pick<
  DownloadOptions,
  | 'maxAttempts'
  | 'deadlineMs'
  | 'idleTimeoutMs'
  | 'backoff'
  | 'maxRetryAfterMs'
  | 'httpAgent'
  | 'shaper'
>;

export interface OtaStepContext {
  readonly store: StateStore;
  readonly log: AgentLogger;
  readonly signal: AbortSignal;
  readonly tuning: DownloadTuning;
  readonly progress: (report: Omit<StatusMessage, 'cmd'>) => void;
  /** How often a `downloading` progress report may go out, milliseconds. */
  readonly progressEveryMs: number;
  readonly onDownloaded?: (info: { bytes: number; ms: number; attempts: number }) => void;
}

/**
 * The agent's OTA app: what TiJOS's OTA app does when started with `"<oldAppId> <url>"`, made
 * safe. It downloads (resuming), verifies, and installs the package into a new app slot as an
 * app on trial; the old app stays the autorun app until the new one proved healthy after the
 * restart (device-agent.ts). Throws OtaFailure; on success the job is gone from the state and
 * the trial is in it, written in one atomic update.
 */
export async function runOtaStep(job: JobState, ctx: OtaStepContext): Promise<number> {
  let args;
  try {
    args = parseOtaArgs(job.args);
  } catch (error) {
    if (error instanceof OtaArgsError) throw new OtaFailure('bad_arguments', error.message);
    throw error;
  }
  const { cmd } = job;
  const part = ctx.store.resolve(job.partFile);

  const verified = await fetchAndVerify(job, args.url, part, ctx);

  ctx.progress({ state: 'installing', bytes: verified.size });
  if (ctx.store.state.apps.length >= MAX_APPS) {
    throw new OtaFailure('too_many_apps', `the device holds ${MAX_APPS} apps`);
  }
  let newAppId = 0;
  let file = '';
  try {
    const probe = structuredClone(ctx.store.state);
    newAppId = allocateAppId(probe);
    file = path.posix.join(APPS_DIR, `app-${newAppId}.pkg`);
    await rename(part, ctx.store.resolve(file));
    await fsyncDir(path.dirname(ctx.store.resolve(file)));
  } catch (error) {
    throw new OtaFailure(
      'install_failed',
      `moving the package into its slot failed: ${String(error)}`,
    );
  }
  await ctx.store.update((s) => {
    allocateAppId(s);
    s.apps.push({
      id: newAppId,
      name: cmd.app,
      version: cmd.version,
      description: verified.tapk?.description ?? '',
      size: verified.size,
      type: 0,
      file,
      sha256: cmd.sha256,
    });
    s.job = null;
    s.trial = { cmd: cmd.id, newAppId, oldAppId: args.oldAppId, booted: false, failure: null };
  });
  ctx.log.info(
    { appId: newAppId, version: cmd.version, tapk: verified.tapk?.name },
    'installed on trial',
  );
  return newAppId;
}

async function fetchAndVerify(
  job: JobState,
  url: string,
  part: string,
  ctx: OtaStepContext,
): Promise<VerifiedPackage> {
  const { cmd } = job;
  for (let round = 0; ; round++) {
    const started = Date.now();
    let lastProgress = 0;
    ctx.progress({ state: 'downloading', bytes: 0 });
    const result = await download({
      ...ctx.tuning,
      url,
      file: part,
      expectedSize: cmd.size,
      etag: job.etag,
      signal: ctx.signal,
      log: ctx.log,
      onProgress: (bytes) => {
        const now = Date.now();
        if (now - lastProgress < ctx.progressEveryMs) return;
        lastProgress = now;
        ctx.progress({ state: 'downloading', bytes });
      },
      onValidator: (etag) => {
        // Best effort: without it a resume after a restart just lacks If-Range.
        ctx.store
          .update((s) => {
            if (s.job?.cmd.id === cmd.id) s.job = { ...s.job, etag };
          })
          .catch(() => undefined);
      },
    });
    ctx.onDownloaded?.({
      bytes: result.bytes,
      ms: Date.now() - started,
      attempts: result.attempts,
    });
    ctx.progress({ state: 'downloaded', bytes: result.bytes, http: result.http });
    try {
      return await verifyPackage(part, cmd);
    } catch (error) {
      // Bytes kept across a restart may not all have reached the disk: one clean download
      // settles whether the server or this device is at fault.
      if (round > 0 || !result.resumed || !(error instanceof OtaFailure)) throw error;
      ctx.log.warn(
        { reason: error.reason },
        'resumed download failed verification: downloading again',
      );
      await truncate(part, 0);
    }
  }
}

/** Removes a job's partial download (after a failure or a cancel). */
export async function discardPart(store: StateStore, job: JobState): Promise<void> {
  await unlink(store.resolve(job.partFile)).catch(() => undefined);
}
