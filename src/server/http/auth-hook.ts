import type { FastifyInstance, FastifyRequest } from 'fastify';
import { actorForToken } from '../auth/api-tokens.js';
import type { Actor, Role } from '../domain/audit-log.js';
import { TiotaError } from '../errors.js';
import type { ServerContext } from './server-context.js';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor;
  }
  interface FastifyContextConfig {
    /** Least role that may call the route; default viewer for GET/HEAD, operator otherwise. */
    minRole?: Role;
    /** Route needs no bearer token (login). */
    public?: boolean;
  }
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/**
 * Bearer-token authentication and role checks for everything under /api/v1. No token → 401;
 * a role below the route's → 403 (viewers may only read).
 */
export function installAuth(app: FastifyInstance, ctx: ServerContext): void {
  app.decorateRequest('actor', null as unknown as Actor);
  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/api/v1/') || request.routeOptions.config?.public) return;
    const token = bearerToken(request);
    const actor = token ? await actorForToken(ctx.db, token, Date.now()) : null;
    if (!actor) throw new TiotaError('unauthorized');
    request.actor = { name: actor.name, role: actor.role, ip: request.ip };

    const readOnly = request.method === 'GET' || request.method === 'HEAD';
    const needed = request.routeOptions.config?.minRole ?? (readOnly ? 'viewer' : 'operator');
    if (RANK[actor.role] < RANK[needed]) throw new TiotaError('forbidden', actor.role);
  });
}

function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match ? match[1] : null;
}
