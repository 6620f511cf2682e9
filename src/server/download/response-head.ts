import { STATUS_CODES } from 'node:http';

import type { Decision } from './download-service.js';
import { DOWNLOAD_REFUSALS, REFUSAL_HEADERS, refusalBody } from './download-refusals.js';
import type { Transfer } from './transfer.js';

/**
 * HTTP/1.1 response heads as text, for the lean transport. Per response only the status
 * line, Date and Connection change; the package's own lines are built once in its cache
 * entry. Header names are written in their usual case: small device clients compare them
 * literally.
 */

const STATUS_LINES = new Map<number, string>(
  [200, 206, 304, 403, 404, 405, 412, 416, 500, 503].map((s) => [
    s,
    `HTTP/1.1 ${s} ${STATUS_CODES[s]}\r\n`,
  ]),
);

let dateSecond = 0;
let dateLine = '';

/** `Date:` line (RFC 9110 §6.6.1), rebuilt at most once a second. */
function currentDateLine(): string {
  const now = Date.now();
  const second = now - (now % 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateLine = `Date: ${new Date(second).toUTCString()}\r\n`;
  }
  return dateLine;
}

function tail(keepAlive: boolean, http10: boolean): string {
  // HTTP/1.1 keeps connections by default; a 1.0 client must be told (RFC 9112 §9.3).
  if (!keepAlive) return `${currentDateLine()}Connection: close\r\n\r\n`;
  return http10 ? `${currentDateLine()}Connection: keep-alive\r\n\r\n` : `${currentDateLine()}\r\n`;
}

/**
 * Head of a body response (200 or 206). The head of a whole 200, the hot case, is kept
 * encoded per package for the current second, so most downloads build and encode no text.
 */
export function transferHead(t: Transfer, keepAlive: boolean, http10: boolean): Buffer | string {
  const { pkg } = t;
  if (t.status === 200) return encodedHead(t, keepAlive, http10);
  return (
    `${STATUS_LINES.get(206)}${pkg.partHeadText}Content-Length: ${t.length}\r\n` +
    `Content-Range: bytes ${t.start}-${t.end}/${pkg.size}\r\n${tail(keepAlive, http10)}`
  );
}

/** Bodies up to this size are also kept joined to their head: one write per download. */
export const WHOLE_RESPONSE_BYTES = 64 * 1024;

/**
 * Head and body of a whole 200 of a small in-memory package, joined into one buffer for the
 * current second (the copy is made once a second, not per request). One plain write then
 * replaces cork, two writes, writev and uncork. Undefined when the response is not such.
 */
export function wholeResponse(
  t: Transfer,
  keepAlive: boolean,
  http10: boolean,
): Buffer | undefined {
  const { pkg } = t;
  if (t.status !== 200 || pkg.body === undefined || pkg.size > WHOLE_RESPONSE_BYTES) {
    return undefined;
  }
  const variant = variantOf(keepAlive, http10) + 3;
  const cache = currentHeads(t);
  let whole = cache.byVariant[variant];
  if (whole === undefined) {
    whole = Buffer.concat([encodedHead(t, keepAlive, http10), pkg.body]);
    cache.byVariant[variant] = whole;
  }
  return whole;
}

function variantOf(keepAlive: boolean, http10: boolean): number {
  return keepAlive ? (http10 ? 2 : 1) : 0;
}

function currentHeads(t: Transfer): Transfer['pkg']['encodedHeads'] {
  const cache = t.pkg.encodedHeads;
  currentDateLine();
  if (cache.second !== dateSecond) {
    cache.second = dateSecond;
    cache.byVariant.fill(undefined);
  }
  return cache;
}

function encodedHead(t: Transfer, keepAlive: boolean, http10: boolean): Buffer {
  const cache = currentHeads(t);
  const variant = variantOf(keepAlive, http10);
  let head = cache.byVariant[variant];
  if (head === undefined) {
    const text = `${STATUS_LINES.get(200)}${t.pkg.fullHeadText}${tail(keepAlive, http10)}`;
    head = Buffer.from(text, 'latin1');
    cache.byVariant[variant] = head;
  }
  return head;
}

/** Head and body of every answer without a package body (refusals, 304, HEAD). */
export function bodilessResponse(
  d: Exclude<Decision, { kind: 'body' }>,
  head: boolean,
  keepAlive: boolean,
  http10: boolean,
): { head: string; body: Buffer | undefined } {
  switch (d.kind) {
    case 'head':
      return {
        head: `${STATUS_LINES.get(200)}${d.pkg.fullHeadText}${tail(keepAlive, http10)}`,
        body: undefined,
      };
    case 'not_modified':
      return {
        head:
          `${STATUS_LINES.get(304)}ETag: ${d.pkg.etag}\r\n` +
          `Cache-Control: ${d.pkg.fullHeaders['Cache-Control']}\r\n${tail(keepAlive, http10)}`,
        body: undefined,
      };
    case 'refuse': {
      const body = refusalBody(d.code);
      const status = DOWNLOAD_REFUSALS[d.code].status;
      let lines = `Content-Length: ${body.length}\r\n`;
      for (const [name, value] of Object.entries({ ...REFUSAL_HEADERS, ...d.extra })) {
        lines += `${name}: ${value}\r\n`;
      }
      return {
        head: `${STATUS_LINES.get(status)}${lines}${tail(keepAlive, http10)}`,
        body: head ? undefined : body,
      };
    }
  }
}
