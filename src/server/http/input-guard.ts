import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TiotaError } from '../errors.js';

/**
 * Checks of request input that the route schemas cannot make, run before them, so that both
 * databases answer alike with a 400 the client can act on:
 *
 * - Text holding a NUL character (U+0000), anywhere in the path parameters, query or JSON
 *   body. PostgreSQL cannot store or even compare it: a search or a name with one in it
 *   failed in the database as a 500, while SQLite took it.
 * - An integer path or query parameter written as anything but digits. Schema coercion reads
 *   `Infinity`, `1e400` and `1e3` as numbers, and the first two pass its range checks; the
 *   database then fails on them.
 */
export function installInputGuard(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    const where =
      nulIn(request.params, 'path') ?? nulIn(request.query, 'query') ?? nulIn(request.body, 'body');
    if (where) throw nulError(where);
    const notDigits =
      looseInteger(request, 'params', 'path') ?? looseInteger(request, 'querystring', 'query');
    if (notDigits) throw new TiotaError('validation_failed', `${notDigits} must be a whole number`);
  });
}

/** The first integer parameter of the route's schema not written as plain digits, or null. */
function looseInteger(
  request: FastifyRequest,
  part: 'params' | 'querystring',
  where: string,
): string | null {
  const schema = request.routeOptions.schema?.[part] as
    { properties?: Record<string, { type?: unknown }> } | undefined;
  const values = (part === 'params' ? request.params : request.query) as Record<string, unknown>;
  for (const [name, property] of Object.entries(schema?.properties ?? {})) {
    const value = values?.[name];
    if (property.type === 'integer' && typeof value === 'string' && !/^-?\d+$/.test(value)) {
      return `${where}.${name}`;
    }
  }
  return null;
}

/** For text the hook cannot see: the fields and file name of a streamed multipart upload. */
export function refuseNul(value: string | undefined, where: string): void {
  if (value?.includes('\u0000')) throw nulError(where);
}

function nulError(where: string): TiotaError {
  return new TiotaError('validation_failed', `${where} must not contain a NUL character (U+0000)`);
}

/** The path to the first string holding U+0000, or null; streams and buffers are left alone. */
function nulIn(value: unknown, path: string): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = nulIn(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  if (value !== null && typeof value === 'object' && !isBinaryOrStream(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (key.includes('\u0000')) return `${path} (a field name)`;
      const found = nulIn(item, `${path}.${key}`);
      if (found) return found;
    }
  }
  return null;
}

// Fastify's query and params objects have prototypes of their own, so "plain" is told by
// what they are not: package bodies arrive as streams or buffers and are not text.
function isBinaryOrStream(value: object): boolean {
  return ArrayBuffer.isView(value) || typeof (value as { pipe?: unknown }).pipe === 'function';
}
