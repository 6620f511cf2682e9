import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseRequestHead } from '../../src/server/download/request-head-parser.js';

const runs = Number(process.env.FUZZ_RUNS ?? 150);
const TOKEN = 'AQEAAAABAAAABwAAAAlyHbwAch8NgBLGL2xz3Q5lBJGeD46kInE';

describe('parseRequestHead', () => {
  it('reads a plain download request', () => {
    const head = `GET /d/${TOKEN}?x=1 HTTP/1.1\r\nHost: a\r\nRange:  bytes=0-9 \r\nIf-Range: "e"`;
    expect(parseRequestHead(head)).toEqual({
      method: 'GET',
      target: `/d/${TOKEN}?x=1`,
      range: 'bytes=0-9',
      ifRange: '"e"',
      ifMatch: undefined,
      ifNoneMatch: undefined,
      keepAlive: true,
      http10: false,
    });
  });

  it.each([
    ['another path', `GET /api/v1/x HTTP/1.1\r\nHost: a`],
    ['another method', `POST /d/${TOKEN} HTTP/1.1\r\nHost: a`],
    ['HTTP/2 text', `GET /d/${TOKEN} HTTP/2.0\r\nHost: a`],
    ['no Host in 1.1', `GET /d/${TOKEN} HTTP/1.1`],
    ['two Hosts', `GET /d/${TOKEN} HTTP/1.1\r\nHost: a\r\nHost: b`],
    ['a body', `GET /d/${TOKEN} HTTP/1.1\r\nHost: a\r\nContent-Length: 5`],
    ['chunked', `GET /d/${TOKEN} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked`],
    ['Expect', `GET /d/${TOKEN} HTTP/1.1\r\nHost: a\r\nExpect: 100-continue`],
    ['Upgrade', `GET /d/${TOKEN} HTTP/1.1\r\nHost: a\r\nConnection: upgrade`],
    ['obs-fold', `GET /d/${TOKEN} HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1\r\n ,2-3`],
    ['space before colon', `GET /d/${TOKEN} HTTP/1.1\r\nHost : a`],
    ['a control character', `GET /d/${TOKEN} HTTP/1.1\r\nHost: a\u0001`],
    ['a bare LF', `GET /d/${TOKEN} HTTP/1.1\nHost: a`],
    ['two Range fields', `GET /d/${TOKEN} HTTP/1.1\r\nHost: a\r\nRange: x\r\nRange: y`],
  ])('leaves %s to Node', (_name, head) => {
    expect(parseRequestHead(head)).toBeUndefined();
  });

  it('follows Connection for both versions', () => {
    const at = (version: string, connection?: string) =>
      parseRequestHead(
        `GET /d/${TOKEN} ${version}\r\nHost: a${connection ? `\r\nConnection: ${connection}` : ''}`,
      )?.keepAlive;
    expect(at('HTTP/1.1')).toBe(true);
    expect(at('HTTP/1.1', 'Close')).toBe(false);
    expect(at('HTTP/1.0')).toBe(false);
    expect(at('HTTP/1.0', 'keep-alive')).toBe(true);
  });
});

/**
 * Differential test against Node's own parser (llhttp): whatever the lean parser accepts,
 * Node must accept too, and read the same method, target and fields. A request the lean
 * parser declines is always safe: it goes to Node.
 */
describe('parseRequestHead against Node', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const h = req.headers;
      const seen = {
        method: req.method,
        target: req.url,
        range: h.range,
        ifRange: h['if-range'],
        ifMatch: h['if-match'],
        ifNoneMatch: h['if-none-match'],
      };
      // In a header, not the body: HEAD responses have none.
      res.setHeader('X-Seen', encodeURIComponent(JSON.stringify(seen)));
      res.setHeader('Connection', 'close');
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** What Node made of `head`: its JSON, or the status line of its error. */
  function nodeReads(head: string): Promise<string> {
    return new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1', () => socket.end(`${head}\r\n\r\n`, 'latin1'));
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        const seen = /\r\nX-Seen: ([^\r]*)/.exec(text)?.[1];
        resolve(seen !== undefined ? decodeURIComponent(seen) : text.split('\r\n')[0]);
      });
    });
  }

  const pick = <T>(...values: T[]) => fc.constantFrom(...values);
  /** Mostly `usual`, sometimes `odd`: most requests must pass our parser to compare. */
  const mostly = <T>(usual: fc.Arbitrary<T>, odd: fc.Arbitrary<T>) =>
    fc.oneof({ arbitrary: usual, weight: 4 }, { arbitrary: odd, weight: 1 });

  const value = mostly(
    pick('bytes=0-9', 'bytes=-5', ' bytes=1-', '"abc"', 'W/"x", "y"', 'close', 'keep-alive', '0'),
    fc.string({ unit: 'binary-ascii', maxLength: 12 }),
  );
  const name = mostly(
    pick(
      'Host',
      'Range',
      'range',
      'If-Range',
      'If-Match',
      'If-None-Match',
      'Connection',
      'X-Other',
    ),
    pick('Content-Length', 'Transfer-Encoding', 'Bad Name', 'Host ', 'RANGE', 'X:Y'),
  );
  const field = mostly(
    fc
      .tuple(name, mostly(pick(':', ': ', ':\t'), pick(' :', '')), value)
      .map(([n, c, v]) => `${n}${c}${v}`),
    pick(' folded', '\tfolded', 'no-colon', ''),
  );
  const request = fc
    .tuple(
      mostly(pick('GET', 'HEAD'), pick('get', 'POST')),
      mostly(
        pick(`/d/${TOKEN}`, `/d/${TOKEN}?q=1`),
        pick('/d/a b', '/d/', '/api', `/d/${TOKEN}#x`, `/d/${TOKEN}%20`),
      ),
      mostly(pick('HTTP/1.1', 'HTTP/1.0'), pick('HTTP/1.2', 'http/1.1', 'HTTP/1.1 ')),
      fc.array(field, { maxLength: 5 }),
      mostly(fc.constant(true), fc.constant(false)),
    )
    .map(([method, target, version, fields, host]) =>
      [`${method} ${target} ${version}`, ...(host ? ['Host: tiota.test'] : []), ...fields].join(
        '\r\n',
      ),
    );

  let compared = 0;
  it('accepts only what Node accepts, and reads it the same way', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (head) => {
        const ours = parseRequestHead(head);
        if (ours === undefined) return;
        compared++;
        const { method, target, range, ifRange, ifMatch, ifNoneMatch } = ours;
        const node = await nodeReads(head);
        expect(node, head).toBe(
          JSON.stringify({ method, target, range, ifRange, ifMatch, ifNoneMatch }),
        );
      }),
      { numRuns: runs },
    );
    expect(compared).toBeGreaterThan(runs / 20); // the comparison really ran (about 1 in 5)
  });
});
