import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../server-context.js';

const deviceParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

/** Devices: register (returns credentials once), list with filters, show with history, revoke. */
export function devicesRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post(
    '/api/v1/devices',
    {
      schema: {
        tags: ['devices'],
        body: {
          type: 'object',
          required: ['deviceId'],
          additionalProperties: false,
          properties: {
            deviceId: { type: 'string', minLength: 1, maxLength: 64 },
            tags: { type: 'array', items: { type: 'string', maxLength: 64 }, maxItems: 32 },
            profile: { type: 'string', maxLength: 32 },
          },
        },
      },
    },
    async (request, reply) => {
      const body = request.body as { deviceId: string; tags?: string[]; profile?: string };
      return reply.status(201).send(await ctx.devices.register(body, request.actor));
    },
  );

  app.get(
    '/api/v1/devices',
    {
      schema: {
        tags: ['devices'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            tag: {
              type: 'string',
              description: 'devices carrying this tag (exact, case included)',
            },
            app: { type: 'string' },
            version: { type: 'string' },
            online: { type: 'boolean' },
            q: {
              type: 'string',
              maxLength: 64,
              description: 'device ids containing this text, case ignored (% and _ are plain)',
            },
            limit: { type: 'integer', minimum: 1, maximum: 10000 },
            offset: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
          },
        },
      },
    },
    async (request) => ctx.devices.list(request.query as Record<string, never>),
  );

  app.get(
    '/api/v1/devices/:id',
    { schema: { params: deviceParams, tags: ['devices'] } },
    async (request) => {
      const { id } = request.params as { id: string };
      return { ...(await ctx.devices.get(id)), history: await ctx.devices.history(id) };
    },
  );

  app.post(
    '/api/v1/devices/:id/revoke',
    { schema: { params: deviceParams, tags: ['devices'] } },
    async (request) => {
      const { id } = request.params as { id: string };
      await ctx.devices.revoke(id, request.actor);
      return ctx.devices.get(id);
    },
  );
}
