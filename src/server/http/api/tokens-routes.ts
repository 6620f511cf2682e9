import type { FastifyInstance } from 'fastify';
import type { TokenHolder } from '../../auth/api-tokens.js';
import { TokenService, type TokenRequest } from '../../auth/token-service.js';
import type { ServerContext } from '../server-context.js';
import {
  idParams,
  JSON_BODY_LIMIT,
  NO_STORE,
  roleSchema,
  timestampSchema,
  usernameSchema,
} from './security-schemas.js';

/**
 * API tokens for scripts and the CLI. Managing your own tokens is open to every role (a
 * viewer may make a read-only token for a dashboard); other accounts' tokens are for admins.
 */
export function tokensRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const tokens = new TokenService(ctx.db, ctx.audit);
  const selfService = { minRole: 'viewer' } as const;

  app.get(
    '/api/v1/tokens',
    {
      schema: {
        tags: ['tokens'],
        summary: 'List your tokens and sessions (all accounts with all=true, admins only)',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { all: { type: 'boolean' } },
        },
      },
    },
    async (request) => {
      const { all } = request.query as { all?: boolean };
      return { tokens: await tokens.list(request.credential as TokenHolder, { all }) };
    },
  );

  app.post(
    '/api/v1/tokens',
    {
      config: selfService,
      bodyLimit: JSON_BODY_LIMIT,
      schema: {
        tags: ['tokens'],
        summary: 'Create an API token; the token is in this response only',
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 128 },
            account: usernameSchema,
            // One type list, not anyOf: Fastify coerces types, and under anyOf its first
            // branch turned null ("never expires") into 0 (expired).
            expiresAt: { ...timestampSchema, type: ['integer', 'null'] },
            role: roleSchema,
          },
        },
      },
    },
    async (request, reply) => {
      const made = await tokens.create(
        request.body as TokenRequest,
        request.credential as TokenHolder,
        request.actor,
      );
      return reply
        .headers(NO_STORE)
        .status(201)
        .send({ ...made.view, token: made.token });
    },
  );

  app.delete(
    '/api/v1/tokens/:id',
    {
      config: selfService,
      schema: { tags: ['tokens'], summary: 'Revoke a token or session', params: idParams },
    },
    async (request, reply) => {
      const { id } = request.params as { id: number };
      await tokens.revoke(id, request.credential as TokenHolder, request.actor);
      return reply.status(204).send();
    },
  );
}
