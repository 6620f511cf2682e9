import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRORS } from '../../src/server/errors.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import {
  apiOperations,
  concretePath,
  label,
  rawCall,
  type ApiOperation,
} from './security-helpers.js';

type Schema = Record<string, any>;

/** Known patterns, with a value each accepts (the rest of a body must pass to test one field). */
const PATTERN_SAMPLES: [RegExp, string][] = [[/^\^\[0-9a-fA-F\]\{(\d+)\}\$$/, 'hex']];

/** A value the schema accepts, so that a request fails only on the field under test. */
function validSample(schema: Schema): unknown {
  if (schema.anyOf) return validSample(schema.anyOf[0]);
  if (schema.enum) return schema.enum[0];
  switch (schema.type) {
    case 'string': {
      const hex = schema.pattern && PATTERN_SAMPLES[0][0].exec(schema.pattern);
      if (hex) return 'a'.repeat(Number(hex[1]));
      return 'a'.repeat(Math.max(1, schema.minLength ?? 1));
    }
    case 'integer':
    case 'number':
      return Math.max(schema.minimum ?? 1, 1);
    case 'boolean':
      return false;
    case 'array':
      return schema.minItems ? [validSample(schema.items ?? {})] : [];
    default:
      return {};
  }
}

/**
 * Values the schema must refuse. Fastify coerces scalars (a number where a string is wanted
 * reads as its text, a lone value where a list is wanted as a list of one), so these are
 * values no coercion can rescue.
 */
function badValues(schema: Schema): unknown[] {
  if (schema.anyOf) return [{ nested: true }, 'not-a-number-or-null'];
  const bad: unknown[] = [{ nested: true }];
  switch (schema.type) {
    case 'string':
      if (schema.maxLength !== undefined) bad.push('x'.repeat(schema.maxLength + 1));
      if (schema.pattern) bad.push('no/such#thing +\u0000');
      if (schema.enum) bad.push('not-one-of-them');
      break;
    case 'integer':
    case 'number':
      bad.push('abc', 1.5);
      if (schema.minimum !== undefined) bad.push(schema.minimum - 1);
      if (schema.maximum !== undefined) bad.push(schema.maximum + 1);
      break;
    case 'boolean':
      bad.push('maybe');
      break;
    case 'array':
      if (schema.items) bad.push(badValues(schema.items).map((v) => [v])[0]);
      if (schema.maxItems !== undefined) {
        bad.push(
          Array.from({ length: schema.maxItems + 1 }, () => validSample(schema.items ?? {})),
        );
      }
      break;
    case 'object':
      bad.length = 0;
      bad.push('a string', 42);
  }
  return bad;
}

/** A body with a valid value in each required field, so that a request fails only on the one under test. */
function validBody(schema: Schema | undefined): Record<string, unknown> {
  return Object.fromEntries(
    (schema?.required ?? []).map((name: string) => [name, validSample(schema!.properties[name])]),
  );
}

function bodySchema(doc: any, op: ApiOperation): Schema | undefined {
  const method = doc.paths[op.path][op.method.toLowerCase()];
  return method.requestBody?.content?.['application/json']?.schema;
}

/**
 * Hostile input: every route, every field, answered with a clear 4xx and a stable code from
 * the one catalogue — never a 2xx, never a 500, never a stack trace.
 */
describe('hostile input', () => {
  let server: TestServer;
  let operations: ApiOperation[];
  let doc: any;
  const codes = Object.keys(ERRORS);

  async function expectRefused(what: string, call: Promise<{ status: number; body: any }>) {
    const res = await call;
    const error = res.body?.error;
    const fine =
      res.status >= 400 &&
      res.status < 500 &&
      codes.includes(error?.code) &&
      typeof error?.message === 'string' &&
      !/\n\s+at /.test(error.message) &&
      typeof error?.requestId === 'string';
    return fine ? null : `${what} → ${res.status} ${JSON.stringify(res.body).slice(0, 160)}`;
  }

  beforeAll(async () => {
    server = await startTestServer();
    doc = await (await fetch(`${server.httpUrl}/api/v1/openapi.json`)).json();
    operations = await apiOperations(server);
  });
  afterAll(() => server?.stop());

  it('refuses unknown properties on every JSON body (additionalProperties: false)', () => {
    const open = operations
      .filter((op) => bodySchema(doc, op))
      .filter((op) => bodySchema(doc, op)?.additionalProperties !== false)
      .map(label);
    expect(open).toEqual([]);
  });

  it('refuses a bad value in each field of each JSON body', async () => {
    const failures: string[] = [];
    let tried = 0;
    for (const op of operations) {
      const schema = bodySchema(doc, op);
      if (!schema) continue;
      const valid = validBody(schema);
      for (const [name, property] of Object.entries<Schema>(schema.properties ?? {})) {
        for (const value of badValues(property)) {
          const body = JSON.stringify({ ...valid, [name]: value });
          const call = rawCall(server, op.method, concretePath(op), {
            token: server.token,
            body,
            contentType: 'application/json',
          });
          const failure = await expectRefused(
            `${label(op)} ${name}=${JSON.stringify(value)?.slice(0, 30)}`,
            call,
          );
          if (failure) failures.push(failure);
          tried++;
        }
      }
      for (const [body, what] of [
        ['{"unterminated":', 'broken JSON'],
        ['[]', 'an array'],
        ['"text"', 'a string'],
        [JSON.stringify({ ...valid, unknownField: 1 }), 'an unknown field'],
        [
          JSON.stringify({ ...valid, __proto__: { admin: true } }).replace(
            '{',
            '{"__proto__":{"role":"admin"},',
          ),
          'a __proto__ key',
        ],
        [JSON.stringify({ pad: 'x'.repeat(1100 * 1024) }), 'a body over the limit'],
      ]) {
        const call = rawCall(server, op.method, concretePath(op), {
          token: server.token,
          body,
          contentType: 'application/json',
        });
        const failure = await expectRefused(`${label(op)} with ${what}`, call);
        if (failure) failures.push(failure);
      }
    }
    expect(failures).toEqual([]);
    expect(tried).toBeGreaterThan(60);
  });

  it('refuses bad path and query parameters on every route', async () => {
    const failures: string[] = [];
    for (const op of operations) {
      for (const param of op.parameters.filter((p) => p.in === 'path')) {
        const values =
          param.schema?.type === 'integer'
            ? ['abc', '0', '1.5', '-1', '99999999999999999999']
            : ['x'.repeat(300), 'UPPER CASE', '%00'];
        for (const value of values) {
          const path = concretePath(op, { [param.name]: value });
          const failure = await expectRefused(
            `${label(op)} ${param.name}=${value.slice(0, 20)}`,
            rawCall(server, op.method, path, { token: server.token }),
          );
          if (failure) failures.push(failure);
        }
      }
      const query = op.parameters.filter((p) => p.in === 'query');
      if (query.length === 0) continue;
      const probes = ['zzUnknown=1'];
      for (const p of query) {
        if (p.schema?.type === 'integer') probes.push(`${p.name}=abc`);
        if (p.schema?.type === 'boolean') probes.push(`${p.name}=maybe`);
        if (p.schema?.enum) probes.push(`${p.name}=garbage`);
      }
      for (const probe of probes) {
        const path = `${concretePath(op)}?${probe}`;
        const failure = await expectRefused(
          `${label(op)} ?${probe}`,
          rawCall(server, op.method, path, { token: server.token }),
        );
        if (failure) failures.push(failure);
      }
    }
    expect(failures).toEqual([]);
  });

  it('refuses hostile uploads (multipart and raw) with a clear 4xx', async () => {
    const upload = (query: string, body: BodyInit, contentType?: string) =>
      fetch(`${server.httpUrl}/api/v1/packages${query}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${server.token}`,
          ...(contentType && { 'content-type': contentType }),
        },
        body,
      }).then(async (r) => ({ status: r.status, body: await r.json() }));
    const form = (fields: Record<string, string>, file?: Blob) => {
      const data = new FormData();
      for (const [k, v] of Object.entries(fields)) data.append(k, v);
      if (file) data.append('file', file, 'x.bin');
      return data;
    };
    const bin = new Blob([Buffer.alloc(300, 1)]);
    const failures = (
      await Promise.all([
        expectRefused('multipart without a file', upload('', form({ version: '1.0.0', app: 'a' }))),
        expectRefused(
          'multipart, huge version',
          upload('', form({ version: 'v'.repeat(5000), app: 'a' }, bin)),
        ),
        expectRefused(
          'multipart, bad app',
          upload('', form({ version: '1.0.0', app: '../../etc' }, bin)),
        ),
        expectRefused(
          'raw, sha256 not hex',
          upload('?version=1.0.0&app=a&sha256=zz', bin, 'application/octet-stream'),
        ),
        expectRefused('raw, no version', upload('?app=a', bin, 'application/octet-stream')),
        expectRefused(
          'raw, wrong digest',
          upload(`?version=1.0.0&app=a&sha256=${'0'.repeat(64)}`, bin, 'application/octet-stream'),
        ),
      ])
    ).filter(Boolean);
    expect(failures).toEqual([]);
    expect((await server.api('GET', '/packages')).body.packages).toEqual([]);
  });

  it('answers media types a route does not take with 415', async () => {
    const res = await rawCall(server, 'POST', '/devices', {
      token: server.token,
      body: '<device id="x"/>',
      contentType: 'application/xml',
    });
    expect([res.status, res.body.error.code]).toEqual([415, 'unsupported_media_type']);
  });

  it('answers a stream where a JSON object belongs with 400, without waiting for the body', async () => {
    const res = await rawCall(server, 'POST', '/accounts', {
      token: server.token,
      body: Buffer.alloc(64 * 1024, 1),
      contentType: 'application/octet-stream',
    });
    expect(res.status).toBe(400);
    expect(codes).toContain(res.body.error.code);
  });
});

/**
 * PostgreSQL cannot store or compare text holding U+0000, where SQLite takes it: without a
 * check of its own, such a name or search would fail in the database as a 500. Every text in
 * every path, query and JSON body is refused alike, on the database that would have failed.
 */
describe('text holding a NUL character, on PostgreSQL', () => {
  let server: TestServer;
  let operations: ApiOperation[];
  let doc: any;

  beforeAll(async () => {
    server = await startTestServer({ database: 'postgres' });
    doc = await (await fetch(`${server.httpUrl}/api/v1/openapi.json`)).json();
    operations = await apiOperations(server);
  });
  afterAll(() => server?.stop());

  async function expectNulRefused(what: string, path: string, op: ApiOperation, body?: object) {
    const res = await rawCall(server, op.method, path, {
      token: server.token,
      ...(body && { body: JSON.stringify(body), contentType: 'application/json' }),
    });
    const refused =
      res.status === 400 &&
      res.body?.error?.code === 'validation_failed' &&
      /must not contain a NUL character/.test(res.body.error.message);
    return refused ? null : `${what} → ${res.status} ${JSON.stringify(res.body).slice(0, 160)}`;
  }

  it('refuses it in every text field of every body, path and query, naming where', async () => {
    const failures: string[] = [];
    let tried = 0;
    const withNul = 'a\u0000b';
    for (const op of operations) {
      const schema = bodySchema(doc, op);
      const valid = validBody(schema);
      for (const [name, property] of Object.entries<Schema>(schema?.properties ?? {})) {
        const value = property.type === 'array' ? [withNul] : withNul;
        if (property.type !== 'string' && property.items?.type !== 'string') continue;
        const path = concretePath(op);
        const failure = await expectNulRefused(`${label(op)} body.${name}`, path, op, {
          ...valid,
          [name]: value,
        });
        if (failure) failures.push(failure);
        tried++;
      }
      const body = schema ? valid : undefined;
      for (const param of op.parameters.filter((p) => p.schema?.type === 'string')) {
        const path =
          param.in === 'path'
            ? concretePath(op, { [param.name]: 'a%00b' })
            : `${concretePath(op)}?${param.name}=a%00b`;
        const failure = await expectNulRefused(
          `${label(op)} ${param.in} ${param.name}`,
          path,
          op,
          body,
        );
        if (failure) failures.push(failure);
        tried++;
      }
    }
    expect(failures).toEqual([]);
    expect(tried).toBeGreaterThan(30);

    // Named where it was.
    const res = await rawCall(server, 'GET', '/devices?q=a%00b', { token: server.token });
    expect(res.body.error.message).toBe(
      'invalid input: query.q must not contain a NUL character (U+0000)',
    );
  });

  // PostgreSQL's integer columns hold 32 or 64 bits, JavaScript integers 53: a larger number
  // must be refused by the schema, not fail in the database.
  it('refuses integers beyond what the database holds, in every body, path and query', async () => {
    const failures: string[] = [];
    let tried = 0;
    const huge = '99999999999999999999';
    const refused = async (what: string, call: Promise<{ status: number; body: any }>) => {
      const res = await call;
      tried++;
      if (res.status < 400 || res.status >= 500) {
        failures.push(`${what} → ${res.status} ${JSON.stringify(res.body).slice(0, 120)}`);
      }
    };
    for (const op of operations) {
      const schema = bodySchema(doc, op);
      const valid = validBody(schema);
      for (const [name, property] of Object.entries<Schema>(schema?.properties ?? {})) {
        if (property.type !== 'integer') continue;
        const body = JSON.stringify({ ...valid, [name]: 0 }).replace(
          `"${name}":0`,
          `"${name}":${huge}`,
        );
        await refused(
          `${label(op)} body.${name}`,
          rawCall(server, op.method, concretePath(op), {
            token: server.token,
            body,
            contentType: 'application/json',
          }),
        );
      }
      const body = schema ? JSON.stringify(valid) : undefined;
      const init = { token: server.token, body, contentType: body && 'application/json' };
      for (const param of op.parameters.filter((p) => p.schema?.type === 'integer')) {
        // Schema coercion reads the last two as numbers too.
        for (const value of [huge, 'Infinity', '1e400']) {
          const path =
            param.in === 'path'
              ? concretePath(op, { [param.name]: value })
              : `${concretePath(op)}?${param.name}=${value}`;
          await refused(
            `${label(op)} ${param.in} ${param.name}=${value}`,
            rawCall(server, op.method, path, init),
          );
        }
      }
    }
    expect(failures).toEqual([]);
    expect(tried).toBeGreaterThan(10);
  });
});
