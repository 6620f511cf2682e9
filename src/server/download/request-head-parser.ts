import type { DownloadRequest } from './download-service.js';

/** A download request as the lean transport understood it. */
export interface ParsedHead extends DownloadRequest {
  /** The connection stays open after the response (RFC 9112 §9.3). */
  readonly keepAlive: boolean;
  /** An HTTP/1.0 client, which must be told when a connection stays open. */
  readonly http10: boolean;
}

// RFC 9110 §5.6.2 token characters, for header names.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: no control characters but HTAB (§5.5); CR and LF were split off already.
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
// A download target: /d/ and visible ASCII (RFC 9112 §3.2 origin-form, kept strict).
const TARGET = /^\/d\/[\x21-\x7e]*$/;
const MAX_TARGET = 1024;

/**
 * Parses a request head (everything before the blank line, as latin1 text) when it is a
 * plain download request; answers undefined for anything else, which the caller hands to
 * Node's HTTP server to be answered there (other paths and methods, bodies, Expect, Upgrade,
 * obsolete line folding, duplicate fields we read, a missing Host). Being strict here costs
 * nothing: whatever is refused goes to the full parser, never to an error.
 */
export function parseRequestHead(text: string): ParsedHead | undefined {
  let eol = text.indexOf('\r\n');
  if (eol < 0) eol = text.length;
  const line = text.slice(0, eol);

  const sp1 = line.indexOf(' ');
  const sp2 = line.indexOf(' ', sp1 + 1);
  if (sp1 < 0 || sp2 < 0 || line.indexOf(' ', sp2 + 1) >= 0) return undefined;
  const method = line.slice(0, sp1);
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  const target = line.slice(sp1 + 1, sp2);
  if (target.length > MAX_TARGET || !TARGET.test(target)) return undefined;
  const version = line.slice(sp2 + 1);
  if (version !== 'HTTP/1.1' && version !== 'HTTP/1.0') return undefined;

  let hosts = 0;
  let keepAlive = version === 'HTTP/1.1';
  let range: string | undefined;
  let ifRange: string | undefined;
  let ifMatch: string | undefined;
  let ifNoneMatch: string | undefined;

  for (let at = eol + 2; at < text.length;) {
    let next = text.indexOf('\r\n', at);
    if (next < 0) next = text.length;
    const field = text.slice(at, next);
    at = next + 2;

    const colon = field.indexOf(':');
    if (colon <= 0) return undefined; // also catches obs-fold: a line starting with SP or HTAB
    const name = field.slice(0, colon);
    if (!TOKEN.test(name)) return undefined;
    const value = trimOws(field.slice(colon + 1));
    if (BAD_VALUE.test(value)) return undefined;

    switch (name.toLowerCase()) {
      case 'host':
        hosts++;
        break;
      case 'connection': {
        const options = value.toLowerCase();
        if (options.includes('upgrade')) return undefined;
        if (/(^|[\s,])close($|[\s,])/.test(options)) keepAlive = false;
        else if (/(^|[\s,])keep-alive($|[\s,])/.test(options)) keepAlive = true;
        break;
      }
      case 'content-length':
        if (value !== '0') return undefined;
        break;
      case 'transfer-encoding':
      case 'expect':
      case 'upgrade':
        return undefined;
      case 'range':
        if (range !== undefined) return undefined;
        range = value;
        break;
      case 'if-range':
        if (ifRange !== undefined) return undefined;
        ifRange = value;
        break;
      case 'if-match':
        if (ifMatch !== undefined) return undefined;
        ifMatch = value;
        break;
      case 'if-none-match':
        if (ifNoneMatch !== undefined) return undefined;
        ifNoneMatch = value;
        break;
    }
  }
  // HTTP/1.1 requires exactly one Host (RFC 9112 §3.2); Node answers the others with 400.
  if (hosts > 1 || (hosts === 0 && version === 'HTTP/1.1')) return undefined;
  const http10 = version === 'HTTP/1.0';
  return { method, target, range, ifRange, ifMatch, ifNoneMatch, keepAlive, http10 };
}

/** Strips optional whitespace (SP and HTAB only, RFC 9110 §5.6.3) from both ends. */
function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 0x20 || s.charCodeAt(a) === 0x09)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 0x20 || s.charCodeAt(b - 1) === 0x09)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}
