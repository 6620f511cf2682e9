import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TiotaError, type ErrorCode } from '../errors.js';

interface ErrorBody {
  readonly status: number;
  readonly code: ErrorCode;
  readonly message: string;
  readonly headers?: Record<string, string>;
}

/**
 * The one place errors become responses: `{"error":{"code","message","requestId"}}`. Catalogue
 * errors keep their status; Fastify's own (validation, body too large, bad JSON, media type)
 * map onto catalogue codes; anything else is a 500 that names only the request id (the detail
 * goes to the log, never to the client).
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | TiotaError | Error, request, reply) => {
    const body = describe(error, request);
    if (body.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: body.code, status: body.status }, body.message);
    send(request, reply, body);
  });

  app.setNotFoundHandler((request, reply) => {
    const message = `${request.method} ${request.url.split('?')[0]} not found`;
    send(request, reply, { status: 404, code: 'not_found', message });
  });
}

/**
 * Fastify's router answers a few requests before any hook runs (a path segment over
 * `maxParamLength`, a URL it cannot decode) in its own body format; this puts them in ours.
 * Pass as the `frameworkErrors` option of Fastify().
 */
export function handleFrameworkError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const problem: Record<string, string> = {
    FST_ERR_MAX_PARAM_LENGTH: 'a path segment is too long',
    FST_ERR_BAD_URL: 'the URL cannot be decoded',
  };
  const reason = problem[error.code];
  if (!reason) {
    request.log.error({ err: error }, 'request failed');
    const message = `internal error (request ${request.id})`;
    return send(request, reply, { status: 500, code: 'internal', message });
  }
  request.log.info({ code: 'bad_request', status: 400 }, reason);
  send(request, reply, {
    status: 400,
    code: 'bad_request',
    message: `the request is malformed: ${reason}`,
  });
}

function describe(error: FastifyError | TiotaError | Error, request: FastifyRequest): ErrorBody {
  if (error instanceof TiotaError) {
    const { status, code, message, headers } = error;
    return { status, code, message, headers };
  }
  if ('validation' in error && error.validation) {
    return { status: 400, code: 'validation_failed', message: `invalid input: ${error.message}` };
  }
  const status = 'statusCode' in error ? error.statusCode : undefined;
  if (status === 413) {
    return { status, code: 'payload_too_large', message: 'the request body is too large' };
  }
  if (status === 415) return { status, code: 'unsupported_media_type', message: error.message };
  if (status === 404) return { status, code: 'not_found', message: error.message };
  if (status !== undefined && status >= 400 && status < 500) {
    const message = `the request is malformed: ${error.message}`;
    return { status: 400, code: 'bad_request', message };
  }
  return { status: 500, code: 'internal', message: `internal error (request ${request.id})` };
}

function send(request: FastifyRequest, reply: FastifyReply, body: ErrorBody): void {
  if (reply.sent) return;
  // RFC 6750 §3: a 401 names the scheme the client should use.
  if (body.status === 401) void reply.header('www-authenticate', 'Bearer realm="tiota"');
  for (const [name, value] of Object.entries(body.headers ?? {})) void reply.header(name, value);
  const { code, message } = body;
  void reply.status(body.status).send({ error: { code, message, requestId: request.id } });
}
