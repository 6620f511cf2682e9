import type { FastifyInstance } from 'fastify';
import { AccountService, type AccountChange } from '../../auth/account-service.js';
import { MAX_PASSWORD_LENGTH } from '../../auth/password-hash.js';
import type { Role } from '../../domain/audit-log.js';
import type { ServerContext } from '../server-context.js';
import { JSON_BODY_LIMIT, NO_STORE, roleSchema, usernameSchema } from './security-schemas.js';

const usernameParams = {
  type: 'object',
  required: ['username'],
  additionalProperties: false,
  properties: { username: usernameSchema },
} as const;

const password = { type: 'string', minLength: 1, maxLength: MAX_PASSWORD_LENGTH } as const;

/** Operator accounts, for admins only: create, list, show, change role, reset, disable. */
export function accountsRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const accounts = new AccountService(ctx.db, ctx.audit);
  const admin = { minRole: 'admin' } as const;

  app.get(
    '/api/v1/accounts',
    {
      config: admin,
      schema: { tags: ['accounts'], summary: 'List operator accounts' },
    },
    async () => ({ accounts: await accounts.list() }),
  );

  app.post(
    '/api/v1/accounts',
    {
      config: admin,
      bodyLimit: JSON_BODY_LIMIT,
      schema: {
        tags: ['accounts'],
        summary: 'Create an account; without a password one is generated and shown once',
        body: {
          type: 'object',
          required: ['username', 'role'],
          additionalProperties: false,
          properties: { username: usernameSchema, role: roleSchema, password },
        },
      },
    },
    async (request, reply) => {
      const body = request.body as { username: string; role: Role; password?: string };
      const created = await accounts.create(body, request.actor);
      return reply.headers(NO_STORE).status(201).send(created);
    },
  );

  app.get(
    '/api/v1/accounts/:username',
    {
      config: admin,
      schema: { tags: ['accounts'], params: usernameParams },
    },
    async (request) => accounts.get((request.params as { username: string }).username),
  );

  app.patch(
    '/api/v1/accounts/:username',
    {
      config: admin,
      bodyLimit: JSON_BODY_LIMIT,
      schema: {
        tags: ['accounts'],
        summary:
          'Change role, disable/enable (disabling revokes its tokens), or reset the password',
        params: usernameParams,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: { role: roleSchema, disabled: { type: 'boolean' }, password },
        },
      },
    },
    async (request) => {
      const { username } = request.params as { username: string };
      return accounts.update(username, request.body as AccountChange, request.actor);
    },
  );
}
