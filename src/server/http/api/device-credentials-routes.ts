import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../server-context.js';
import { NO_STORE } from './security-schemas.js';

const deviceParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

/**
 * Device credential rotation: a new secret for a device (the old one stops working and its
 * broker session ends). The device must be given the new credentials (docs/security.md).
 */
export function deviceCredentialsRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post(
    '/api/v1/devices/:id/credentials',
    {
      schema: {
        tags: ['devices'],
        summary: 'Rotate a device secret; the new credentials are in this response only',
        params: deviceParams,
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const credentials = await ctx.devices.rotateSecret(id, request.actor);
      return reply.headers(NO_STORE).send(credentials);
    },
  );
}
