import type { FastifyInstance } from 'fastify';
import { EnrollmentService, type EnrollmentTokenRequest } from '../../auth/enrollment-service.js';
import type { ServerContext } from '../server-context.js';
import {
  idParams,
  JSON_BODY_LIMIT,
  NO_STORE,
  tagSchema,
  timestampSchema,
} from './security-schemas.js';

/**
 * Fleet enrollment: admins manage enrollment tokens; a device with one calls the public
 * `POST /api/v1/enroll` once to get its own credentials, tagged as the token says.
 */
export function enrollmentRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const enrollment = new EnrollmentService(ctx.db, ctx.audit, ctx.devices);
  const admin = { minRole: 'admin' } as const;

  app.post(
    '/api/v1/enrollment-tokens',
    {
      config: admin,
      bodyLimit: JSON_BODY_LIMIT,
      schema: {
        tags: ['enrollment'],
        summary: 'Create an enrollment token for a tag, limited in uses and time (shown once)',
        body: {
          type: 'object',
          required: ['name', 'tags', 'maxUses', 'expiresAt'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 128 },
            tags: { type: 'array', items: tagSchema, minItems: 1, maxItems: 32 },
            profile: { type: 'string', maxLength: 32 },
            maxUses: { type: 'integer', minimum: 1, maximum: 1_000_000 },
            expiresAt: timestampSchema,
          },
        },
      },
    },
    async (request, reply) => {
      const made = await enrollment.create(request.body as EnrollmentTokenRequest, request.actor);
      return reply
        .headers(NO_STORE)
        .status(201)
        .send({ ...made.view, token: made.token });
    },
  );

  app.get(
    '/api/v1/enrollment-tokens',
    {
      config: admin,
      schema: {
        tags: ['enrollment'],
        summary: 'List enrollment tokens (never the tokens themselves)',
      },
    },
    async () => ({ enrollmentTokens: await enrollment.list() }),
  );

  app.delete(
    '/api/v1/enrollment-tokens/:id',
    {
      config: admin,
      schema: { tags: ['enrollment'], summary: 'Revoke an enrollment token', params: idParams },
    },
    async (request) => enrollment.revoke((request.params as { id: number }).id, request.actor),
  );

  app.post(
    '/api/v1/enroll',
    {
      config: { public: true },
      bodyLimit: JSON_BODY_LIMIT,
      schema: {
        tags: ['enrollment'],
        summary: 'A device trades an enrollment token for its credentials (shown once)',
        security: [],
        body: {
          type: 'object',
          required: ['enrollmentToken', 'deviceId'],
          additionalProperties: false,
          properties: {
            enrollmentToken: { type: 'string', minLength: 1, maxLength: 128 },
            deviceId: { type: 'string', minLength: 1, maxLength: 64 },
          },
        },
      },
    },
    async (request, reply) => {
      const body = request.body as { enrollmentToken: string; deviceId: string };
      const credentials = await enrollment.enroll(body.enrollmentToken, body.deviceId, request.ip);
      return reply.headers(NO_STORE).status(201).send(credentials);
    },
  );
}
