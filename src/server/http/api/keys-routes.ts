import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../server-context.js';
import { JSON_BODY_LIMIT } from './security-schemas.js';

/**
 * Signing keys, for admins: list (public halves and ids only), rotate the download-URL HMAC
 * key, rotate or import the manifest key, re-sign packages. Procedures: docs/security.md.
 */
export function keysRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const admin = { minRole: 'admin' } as const;

  app.get(
    '/api/v1/keys',
    {
      config: admin,
      schema: { tags: ['keys'], summary: 'List URL and manifest signing keys (no secrets)' },
    },
    async () => ctx.keys.list(),
  );

  app.post(
    '/api/v1/keys/url/rotate',
    {
      config: admin,
      bodyLimit: JSON_BODY_LIMIT,
      schema: {
        tags: ['keys'],
        summary: 'Add a new download-URL HMAC key; retireOthers voids every URL already sent',
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { retireOthers: { type: 'boolean' } },
        },
      },
    },
    async (request) => {
      const body = (request.body ?? {}) as { retireOthers?: boolean };
      return ctx.keys.rotateUrl({ retireOthers: body.retireOthers ?? false }, request.actor);
    },
  );

  app.post(
    '/api/v1/keys/manifest/rotate',
    {
      config: admin,
      bodyLimit: JSON_BODY_LIMIT,
      schema: {
        tags: ['keys'],
        summary: 'Make (or import) a new manifest signing key; resign re-signs every package',
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            privateKeyPem: { type: 'string', minLength: 1, maxLength: 4096 },
            resign: { type: 'boolean' },
          },
        },
      },
    },
    async (request) => {
      const body = (request.body ?? {}) as { privateKeyPem?: string; resign?: boolean };
      const options = { privateKeyPem: body.privateKeyPem, resign: body.resign ?? false };
      return ctx.keys.rotateManifest(options, request.actor);
    },
  );

  app.post(
    '/api/v1/keys/manifest/resign',
    {
      config: admin,
      schema: {
        tags: ['keys'],
        summary: 'Re-sign every package the current manifest key does not',
      },
    },
    async (request) => ctx.keys.resign(request.actor),
  );
}
