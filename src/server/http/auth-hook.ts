import type { FastifyInstance, FastifyRequest } from 'fastify';
import { actorForToken, type TokenHolder } from '../auth/api-tokens.js';
import { roleAtLeast } from '../auth/roles.js';
import type { Actor, Role } from '../domain/audit-log.js';
import { TiotaError } from '../errors.js';
import type { ServerContext } from './server-context.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling, for the audit log: the account, its effective role and the client IP. */
    actor: Actor;
    /** The bearer token the call came with (null on public routes). */
    credential: TokenHolder | null;
  }
  interface FastifyContextConfig {
    /** Least role that may call the route; default viewer for GET/HEAD, operator otherwise. */
    minRole?: Role;
    /** Route needs no bearer token (login, device enrollment). */
    public?: boolean;
  }
}

/**
 * Bearer-token authentication and role checks for everything under /api/. Deny by default:
 * a route is open only when it says `config.public`, and any other method than GET/HEAD needs
 * at least an operator. No or bad token → 401; a role below the route's → 403. Runs in
 * onRequest, before the body is read or validated, so an anonymous caller learns nothing
 * about a route beyond its existence.
 */
export function installAuth(app: FastifyInstance, ctx: ServerContext): void {
  app.decorateRequest('actor', null as unknown as Actor);
  app.decorateRequest('credential', null);
  app.addHook('onRequest', async (request) => {
    request.actor = { name: 'anonymous', role: 'viewer', ip: request.ip };
    if (!request.url.startsWith('/api/') || request.routeOptions.config?.public) return;

    const token = bearerToken(request);
    const holder = token ? await actorForToken(ctx.db, token, Date.now()) : null;
    if (!holder) throw new TiotaError('unauthorized');
    request.credential = holder;
    request.actor = { name: holder.name, role: holder.role, ip: request.ip };

    const readOnly = request.method === 'GET' || request.method === 'HEAD';
    const needed = request.routeOptions.config?.minRole ?? (readOnly ? 'viewer' : 'operator');
    if (!roleAtLeast(holder.role, needed)) throw new TiotaError('forbidden', holder.role);
  });
}

function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const match = /^Bearer +(\S+) *$/i.exec(header);
  return match ? match[1] : null;
}
