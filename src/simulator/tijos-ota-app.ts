import { createHash } from 'node:crypto';
import type { Agent as HttpAgent } from 'node:http';
import { OtaArgsError, parseOtaArgs } from '../agent/ota-args.js';
import { readBody } from '../agent/body-reader.js';
import { openGet, type OpenResponse } from '../agent/http-get.js';
import { TapkStreamChecker } from '../shared/tapk/index.js';
import type { SimulatedLink } from './simulated-link.js';

/** TIJOS.md step 6: download and install must finish within 60 s of the download's start. */
export const TIJOS_OTA_TIMEOUT_MS = 60_000;

export interface TijosOtaContext {
  /** Free app space, bytes: a larger Content-Length is error -3. */
  readonly freeSpace: number;
  /** Defaults to TIJOS_OTA_TIMEOUT_MS; shorter only in tests. */
  readonly timeoutMs?: number;
  readonly link?: SimulatedLink;
  readonly httpAgent?: HttpAgent;
}

/** What the OTA app ends with; it reports none of it (TIJOS.md): the simulator keeps it. */
export interface TijosOtaResult {
  /** 0 ok, -1 http, -2 timeout, -3 create, -4 write, -5 activate (TIJOS.md). */
  readonly code: number;
  readonly oldAppId: number;
  readonly http?: number;
  readonly bytes: number;
  /** Whether every byte of the Content-Length arrived. */
  readonly complete: boolean;
  readonly downloadMs: number | null;
  /** SHA-256 of the body, when complete. */
  readonly sha256: string | null;
}

/**
 * The reference TiJOS OTA app (TiJOSteam/tijos-http-ota) as TIJOS.md describes it: one plain
 * GET without Range, no retry and no redirect; status 200 only; the size from Content-Length;
 * the body written as it arrives; all within 60 s. It checks no hash and no signature: only
 * the OS's activation looks at the package (the .tapk trailer and its CRC-16).
 */
export async function runTijosOta(args: string, ctx: TijosOtaContext): Promise<TijosOtaResult> {
  let parsed;
  try {
    parsed = parseOtaArgs(args);
  } catch (error) {
    if (!(error instanceof OtaArgsError)) throw error;
    return result(-1, -1, { bytes: 0 });
  }
  const { oldAppId, url } = parsed;
  const started = Date.now();
  const deadline = started + (ctx.timeoutMs ?? TIJOS_OTA_TIMEOUT_MS);

  let opened: OpenResponse;
  try {
    opened = await openGet(url, {
      headers: {},
      agent: ctx.httpAgent,
      idleTimeoutMs: ctx.timeoutMs ?? TIJOS_OTA_TIMEOUT_MS,
      deadline,
    });
  } catch (error) {
    const timedOut = (error as { timedOut?: boolean }).timedOut === true;
    return result(timedOut ? -2 : -1, oldAppId, { bytes: 0 });
  }
  const { res } = opened;
  const status = res.statusCode ?? 0;
  if (status !== 200) {
    opened.discard();
    return result(-1, oldAppId, { http: status, bytes: 0 });
  }
  const lengthText = res.headers['content-length'];
  const size = lengthText && /^\d+$/.test(lengthText) ? Number(lengthText) : 0;
  // No Content-Length (a chunked body) leaves the size at 0: the app cannot be created.
  if (size === 0 || size > ctx.freeSpace) {
    opened.discard();
    return result(-3, oldAppId, { http: status, bytes: 0 });
  }

  const hash = createHash('sha256');
  const tapk = new TapkStreamChecker();
  let bytes = 0;
  const link = ctx.link?.active ? ctx.link : undefined;
  const complete = await readBody(
    res,
    async (chunk) => {
      // A shaped link may still be delivering after the socket ended: the clock decides.
      const late = (): boolean => opened.cut || opened.timedOut || Date.now() >= deadline;
      if (late()) return;
      let arrived = chunk;
      if (link) {
        const n = await link.shape(chunk, opened.discard, late);
        if (typeof n === 'number') arrived = chunk.subarray(0, n);
      }
      if (Date.now() >= deadline) return;
      // The body is written into the app slot as it arrives (TIJOS.md step 4).
      hash.update(arrived);
      tapk.update(arrived);
      bytes += arrived.length;
    },
    link !== undefined,
  ).catch(() => false);

  const downloadMs = Date.now() - started;
  const whole = complete && !opened.cut && bytes === size;
  if (!whole) {
    const late = opened.timedOut || Date.now() >= deadline;
    return result(late ? -2 : -1, oldAppId, { http: status, bytes, downloadMs });
  }
  const sha256 = hash.digest('hex');
  if (Date.now() > deadline) {
    return result(-2, oldAppId, { http: status, bytes, complete: true, downloadMs, sha256 });
  }
  try {
    // Activation: TiJOS runs only a .tapk whose trailer and CRC hold.
    tapk.finish();
  } catch {
    return result(-5, oldAppId, { http: status, bytes, complete: true, downloadMs, sha256 });
  }
  return result(0, oldAppId, { http: status, bytes, complete: true, downloadMs, sha256 });
}

function result(
  code: number,
  oldAppId: number,
  rest: Partial<Omit<TijosOtaResult, 'code' | 'oldAppId'>> & { bytes: number },
): TijosOtaResult {
  return {
    code,
    oldAppId,
    complete: false,
    downloadMs: null,
    sha256: null,
    ...rest,
  };
}
