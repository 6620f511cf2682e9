import type { FastifyInstance } from 'fastify';
import { AccountService } from '../../auth/account-service.js';
import { SESSION_IDLE_MS } from '../../auth/api-tokens.js';
import { LoginService } from '../../auth/login-service.js';
import { MAX_PASSWORD_LENGTH } from '../../auth/password-hash.js';
import type { TokenHolder } from '../../auth/api-tokens.js';
import type { ServerContext } from '../server-context.js';
import { JSON_BODY_LIMIT, NO_STORE } from './security-schemas.js';

const password = { type: 'string', minLength: 1, maxLength: MAX_PASSWORD_LENGTH } as const;

/**
 * Console sessions. `POST /login` trades a username and password for a short-lived bearer
 * token that the console keeps in memory (or sessionStorage) and sends as `Authorization:
 * Bearer`; no cookie is ever set, so a cross-site request carries no credential and CSRF has
 * nothing to ride on (docs/security.md, "Console sessions").
 */
export function sessionRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const accounts = new AccountService(ctx.db, ctx.audit);
  const logins = new LoginService(ctx.db, ctx.audit, accounts, SESSION_IDLE_MS);

  app.post(
    '/api/v1/login',
    {
      config: { public: true },
      bodyLimit: JSON_BODY_LIMIT,
      schema: {
        tags: ['session'],
        summary: 'Log in: returns a console session token (bearer, not a cookie)',
        security: [],
        body: {
          type: 'object',
          required: ['username', 'password'],
          additionalProperties: false,
          properties: { username: { type: 'string', minLength: 1, maxLength: 64 }, password },
        },
      },
    },
    async (request, reply) => {
      const body = request.body as { username: string; password: string };
      const session = await logins.login(body.username, body.password, request.ip);
      return reply.headers(NO_STORE).status(201).send(session);
    },
  );

  app.post(
    '/api/v1/logout',
    {
      config: { minRole: 'viewer' },
      schema: { tags: ['session'], summary: 'End the console session this request came with' },
    },
    async (request, reply) => {
      await logins.logout(request.credential as TokenHolder, request.actor);
      return reply.status(204).send();
    },
  );

  app.get(
    '/api/v1/session',
    {
      schema: { tags: ['session'], summary: 'Who the bearer token speaks for' },
    },
    async (request) => {
      const holder = request.credential as TokenHolder;
      return {
        username: holder.name,
        role: holder.role,
        tokenKind: holder.tokenKind,
        tokenId: holder.tokenId,
        expiresAt: holder.expiresAt,
        idleTimeoutMs: holder.tokenKind === 'session' ? SESSION_IDLE_MS : null,
      };
    },
  );

  app.post(
    '/api/v1/session/password',
    {
      config: { minRole: 'viewer' },
      bodyLimit: JSON_BODY_LIMIT,
      schema: {
        tags: ['session'],
        summary: 'Change your own password (ends your other console sessions)',
        body: {
          type: 'object',
          required: ['currentPassword', 'newPassword'],
          additionalProperties: false,
          properties: { currentPassword: password, newPassword: password },
        },
      },
    },
    async (request, reply) => {
      const body = request.body as { currentPassword: string; newPassword: string };
      const holder = request.credential as TokenHolder;
      const { currentPassword, newPassword } = body;
      await accounts.changeOwnPassword(
        holder.accountId,
        currentPassword,
        newPassword,
        holder.tokenId,
        request.actor,
      );
      return reply.status(204).send();
    },
  );
}
