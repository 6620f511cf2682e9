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

/** Head of a body response (200 or 206). */
export function transferHead(t: Transfer, keepAlive: boolean, http10: boolean): string {
  const { pkg } = t;
  if (t.status === 200)
    return `${STATUS_LINES.get(200)}${pkg.fullHeadText}${tail(keepAlive, http10)}`;
  return (
    `${STATUS_LINES.get(206)}${pkg.partHeadText}Content-Length: ${t.length}\r\n` +
    `Content-Range: bytes ${t.start}-${t.end}/${pkg.size}\r\n${tail(keepAlive, http10)}`
  );
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
