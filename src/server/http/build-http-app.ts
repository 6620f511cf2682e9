import fastifyMultipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  HEADERS_TIMEOUT_MS,
  KEEP_ALIVE_TIMEOUT_MS,
  TIMEOUT_CHECK_INTERVAL_MS,
} from '../net/http-timeouts.js';
import { accountsRoutes } from './api/accounts-routes.js';
import { auditRoutes } from './api/audit-routes.js';
import { deviceCredentialsRoutes } from './api/device-credentials-routes.js';
import { devicesRoutes } from './api/devices-routes.js';
import { enrollmentRoutes } from './api/enrollment-routes.js';
import { keysRoutes } from './api/keys-routes.js';
import { packagesRoutes } from './api/packages-routes.js';
import { rolloutEventsRoutes } from './api/rollout-events-routes.js';
import { rolloutsRoutes } from './api/rollouts-routes.js';
import { sessionRoutes } from './api/session-routes.js';
import { tokensRoutes } from './api/tokens-routes.js';
import { installAuth } from './auth-hook.js';
import { handleFrameworkError, installErrorHandler } from './error-handler.js';
import { installInputGuard } from './input-guard.js';
import type { ServerContext } from './server-context.js';

export type RawHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** Where `npm run build` puts the console (web/dist), found from dist/server/http. */
const CONSOLE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../web/dist');

/**
 * The HTTP side: management API, OpenAPI, health, metrics and the console on Fastify; device
 * downloads (`/d/…`) go to a lean raw handler before Fastify sees them, because that path
 * must keep up with nginx (docs/benchmarks.md).
 */
export async function buildHttpApp(
  ctx: ServerContext,
  downloads: RawHandler,
): Promise<FastifyInstance> {
  // Typed as the default instance: routes take FastifyInstance, whichever logger it carries.
  const app = Fastify({
    loggerInstance: ctx.log.child({ component: 'http' }),
    bodyLimit: 1024 * 1024,
    // Unknown properties are refused (400 validation_failed), not silently dropped: a typo in a
    // field name must not pass for "use the default" (docs/security.md, "Hostile input").
    ajv: { customOptions: { removeAdditional: false } },
    frameworkErrors: handleFrameworkError,
    serverFactory: (handler) => {
      // The same head timeout as the download front in front of it, which hands connections
      // over here (src/server/net/http-timeouts.ts).
      const timeouts = {
        headersTimeout: HEADERS_TIMEOUT_MS,
        keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
        connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
      };
      const server = http.createServer(timeouts, (req, res) => {
        if (req.url?.startsWith('/d/')) downloads(req, res);
        else handler(req, res);
      });
      // A package upload over a slow link may take many minutes: no whole-request limit (Node's
      // default cuts at 5 minutes). Idle connections are still closed by the socket timeout.
      server.requestTimeout = 0;
      return server;
    },
  }) as unknown as FastifyInstance;

  // Package bodies stay streams: the upload path hashes and stores them as they arrive.
  app.addContentTypeParser('application/octet-stream', (_request, payload, done) =>
    done(null, payload),
  );
  await app.register(fastifyMultipart, {
    limits: { fileSize: ctx.config.maxUploadBytes + 1, files: 1 },
  });
  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Tiota management API', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });

  installErrorHandler(app);
  installAuth(app, ctx);
  installInputGuard(app);

  app.get('/api/v1/openapi.json', { config: { public: true }, schema: { hide: true } }, async () =>
    app.swagger(),
  );
  app.get('/healthz', { schema: { hide: true } }, async (_request, reply) => {
    const checks = await ctx.health();
    const ok = Object.values(checks).every(Boolean);
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', checks });
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
    reply.type(ctx.metrics.contentType).send(await ctx.metrics.metrics()),
  );

  packagesRoutes(app, ctx);
  devicesRoutes(app, ctx);
  rolloutsRoutes(app, ctx);
  rolloutEventsRoutes(app, ctx);
  auditRoutes(app, ctx);
  sessionRoutes(app, ctx);
  accountsRoutes(app, ctx);
  tokensRoutes(app, ctx);
  enrollmentRoutes(app, ctx);
  keysRoutes(app, ctx);
  deviceCredentialsRoutes(app, ctx);

  if (existsSync(CONSOLE_DIR)) {
    await app.register(fastifyStatic, { root: CONSOLE_DIR, prefix: '/', wildcard: false });
  }
  return app;
}
