import { statfs } from 'node:fs/promises';
import type { InstallCommand } from '../shared/protocol/index.js';
import { MAX_APPS, runningApp, type AgentState, type JobState } from './app-model.js';
import { formatOtaArgs } from './ota-args.js';
import type { OtaReason } from './ota-reasons.js';
import { signatureIsValid } from './verify-package.js';

export type Admission =
  | { readonly kind: 'fail'; readonly reason: OtaReason; readonly detail: string }
  /** The commanded app and version already run: nothing to download. */
  | { readonly kind: 'current'; readonly version: string }
  | { readonly kind: 'start'; readonly job: JobState };

export interface AdmissionContext {
  readonly state: AgentState;
  readonly dataDir: string;
  readonly signingPublicKey: string;
  readonly keepOldApp: boolean;
  /** Cap on the free app space, bytes. */
  readonly maxPackageBytes: number;
}

/**
 * The checks made before a byte is downloaded, cheapest first: the signature (nothing from an
 * unverified command is acted on), then room for one more app, then the OTA arguments that
 * the OTA step will be started with.
 */
export async function admitInstall(cmd: InstallCommand, ctx: AdmissionContext): Promise<Admission> {
  if (!signatureIsValid(cmd, ctx.signingPublicKey)) {
    return fail('signature_invalid', 'the manifest signature does not verify with the pinned key');
  }
  const running = runningApp(ctx.state);
  if (running.name === cmd.app && running.version === cmd.version) {
    return { kind: 'current', version: running.version };
  }
  if (ctx.state.apps.length >= MAX_APPS) return fail('too_many_apps', `${MAX_APPS} apps installed`);
  const free = await freeSpace(ctx.dataDir, ctx.maxPackageBytes);
  if (cmd.size > free) return fail('no_space', `${cmd.size} bytes needed, ${free} free`);

  let args: string;
  try {
    args = formatOtaArgs({ oldAppId: ctx.keepOldApp ? -1 : running.id, url: cmd.url });
  } catch (error) {
    return fail('bad_arguments', (error as Error).message);
  }
  return {
    kind: 'start',
    job: { cmd, args, partFile: `download/${fileSafe(cmd.id)}.part`, etag: null },
  };
}

function fail(reason: OtaReason, detail: string): Admission {
  return { kind: 'fail', reason, detail };
}

async function freeSpace(dataDir: string, cap: number): Promise<number> {
  try {
    const fs = await statfs(dataDir);
    return Math.min(cap, fs.bavail * fs.bsize);
  } catch {
    return cap;
  }
}

function fileSafe(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80);
}
