import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../server-context.js';

/** The audit log: who did what, when, from where. Newest first; page with `before`. */
export function auditRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get(
    '/api/v1/audit',
    {
      schema: {
        tags: ['audit'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            actor: { type: 'string' },
            action: { type: 'string' },
            before: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
            limit: { type: 'integer', minimum: 1, maximum: 1000 },
          },
        },
      },
    },
    async (request) => ({ entries: await ctx.audit.list(request.query as Record<string, never>) }),
  );
}
