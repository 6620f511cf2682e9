import type { FastifyInstance } from 'fastify';
import { ACTION_STATES } from '../../domain/action-state.js';
import type { CreateRollout } from '../../domain/rollout-service.js';
import { ROLLOUT_STATUSES } from '../../domain/rollout-view.js';
import type { ServerContext } from '../server-context.js';

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } },
} as const;

/** Rollouts: create (or dry-run the plan), list, show with counts, devices, pause/resume/cancel. */
export function rolloutsRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post(
    '/api/v1/rollouts',
    {
      schema: {
        tags: ['rollouts'],
        description:
          'Starts a rollout, or with `dryRun: true` returns its plan without storing anything: ' +
          'batches with their devices, pacing (downloads at once and why) and expected ' +
          'duration. Settings and their defaults: docs/rollouts.md.',
        body: {
          type: 'object',
          required: ['packageId', 'target'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', maxLength: 128 },
            packageId: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
            target: { type: 'object' },
            settings: { type: 'object' },
            dryRun: { type: 'boolean' },
          },
        },
      },
    },
    async (request, reply) => {
      const body = request.body as CreateRollout & { dryRun?: boolean };
      if (body.dryRun) {
        const { pkg, plan, settings, batches } = await ctx.rollouts.plan(body);
        return {
          dryRun: true,
          package: { id: pkg.id, app: pkg.app, version: pkg.version, size: pkg.size },
          devices: plan.devices,
          settings,
          batches: plan.batches.map((b) => ({ ...b, devices: batches[b.batch] })),
          pacing: plan.pacing,
          expectedSeconds: plan.expectedSeconds,
        };
      }
      return reply.status(201).send(await ctx.rollouts.create(body, request.actor));
    },
  );

  app.get(
    '/api/v1/rollouts',
    {
      schema: {
        tags: ['rollouts'],
        querystring: {
          type: 'object',
          properties: { status: { type: 'string', enum: [...ROLLOUT_STATUSES] } },
          additionalProperties: false,
        },
      },
    },
    async (request) => ({
      rollouts: await ctx.rollouts.list(request.query as { status?: string }),
    }),
  );

  app.get(
    '/api/v1/rollouts/:id',
    { schema: { params: idParams, tags: ['rollouts'] } },
    async (request) => ctx.rollouts.get((request.params as { id: number }).id),
  );

  app.get(
    '/api/v1/rollouts/:id/devices',
    {
      schema: {
        params: idParams,
        tags: ['rollouts'],
        description: 'The resolved devices of a rollout, each with its action state and attempt.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            state: { type: 'string', enum: [...ACTION_STATES] },
            // A 32-bit column on PostgreSQL.
            batch: { type: 'integer', minimum: 0, maximum: 2147483647 },
          },
        },
      },
    },
    async (request) => ({
      devices: await ctx.rollouts.actions(
        (request.params as { id: number }).id,
        request.query as { state?: string; batch?: number },
      ),
    }),
  );

  // Pause and resume are idempotent: pausing a paused rollout answers 200 with it unchanged.
  for (const verb of ['pause', 'resume', 'cancel'] as const) {
    app.post(
      `/api/v1/rollouts/:id/${verb}`,
      { schema: { params: idParams, tags: ['rollouts'] } },
      async (request) => {
        const { id } = request.params as { id: number };
        return ctx.rollouts[verb](id, request.actor);
      },
    );
  }
}
