import type { FastifyError, FastifyInstance } from 'fastify';
import { TiotaError } from '../errors.js';

/**
 * The one place errors become responses: `{"error":{"code","message","requestId"}}`. Catalogue
 * errors keep their status; Fastify's own (validation, body too large) map onto catalogue
 * codes; anything else is a 500 that names only the request id (the detail goes to the log).
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | TiotaError | Error, request, reply) => {
    let status: number;
    let code: string;
    let message: string;
    if (error instanceof TiotaError) {
      ({ status, code, message } = error);
    } else if ('validation' in error && error.validation) {
      status = 400;
      code = 'validation_failed';
      message = `invalid input: ${error.message}`;
    } else if ('statusCode' in error && error.statusCode === 413) {
      status = 413;
      code = 'payload_too_large';
      message = 'the request body is too large';
    } else if ('statusCode' in error && error.statusCode === 415) {
      status = 415;
      code = 'unsupported_media_type';
      message = error.message;
    } else if ('statusCode' in error && error.statusCode && error.statusCode < 500) {
      status = error.statusCode;
      code = 'bad_request';
      message = `the request is malformed: ${error.message}`;
    } else {
      status = 500;
      code = 'internal';
      message = `internal error (request ${request.id})`;
      request.log.error({ err: error }, 'request failed');
    }
    if (status < 500) request.log.info({ code, status }, message);
    if (reply.sent) return;
    void reply.status(status).send({ error: { code, message, requestId: request.id } });
  });

  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({
      error: { code: 'not_found', message: `${request.method} ${request.url} not found`, requestId: request.id },
    });
  });
}
