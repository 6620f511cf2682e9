import type { FastifyInstance } from 'fastify';
import { TiotaError } from '../errors.js';

/**
 * Refuses text holding a NUL character (U+0000) anywhere in a request's path parameters, query
 * or JSON body, naming where it was. PostgreSQL cannot store or even compare such text: a
 * search or a name with one in it would fail in the database as a 500, while SQLite takes it.
 * Refused here, both stores answer alike, with a 400 the client can act on.
 */
export function installNulGuard(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    const where =
      nulIn(request.params, 'path') ?? nulIn(request.query, 'query') ?? nulIn(request.body, 'body');
    if (where) throw nulError(where);
  });
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
