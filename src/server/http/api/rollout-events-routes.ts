import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { Logger } from '../../log.js';
import type { RolloutService, RolloutView } from '../../domain/rollout-service.js';
import type { ServerContext } from '../server-context.js';

/** How often a watched rollout is re-read: at most a few updates per second (issue 7). */
const POLL_MS = 500;
/** A comment line at least this often keeps proxies from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;
/**
 * A stream ends after this long and the client reconnects, so the bearer token is checked
 * again: a revoked or expired token stops receiving within this time.
 */
const MAX_STREAM_MS = 5 * 60_000;
/** A client this far behind (bytes buffered) is cut off rather than buffered without end. */
const MAX_BUFFERED = 1024 * 1024;

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } },
} as const;

/**
 * Live rollout updates as server-sent events: `GET /api/v1/rollouts/:id/events` sends the
 * rollout view (the body of `GET /api/v1/rollouts/:id`) as `event: rollout` at once and again
 * whenever it changes. Authentication is the usual bearer header, so browsers read the stream
 * with fetch() (EventSource cannot send headers). Docs: docs/console.md, "Live updates".
 */
export function rolloutEventsRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const hub = new RolloutWatchHub(ctx.rollouts, ctx.log.child({ component: 'rollout-events' }));
  // Open streams would keep app.close() waiting for ever: end them first.
  app.addHook('preClose', async () => hub.closeAll());

  app.get(
    '/api/v1/rollouts/:id/events',
    {
      schema: {
        tags: ['rollouts'],
        params: idParams,
        description:
          'Server-sent events: `event: rollout` with the rollout view as JSON, sent on connect ' +
          'and on every change (at most twice a second); `: ping` comments keep it open. ' +
          'The server ends a stream after 5 minutes; reconnect (docs/console.md).',
        summary: 'Follow a rollout live (server-sent events)',
        response: {
          200: {
            description: 'An endless text/event-stream of `rollout` events',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: number };
      // Unknown rollout: an ordinary JSON 404, before the stream starts.
      const first = await ctx.rollouts.get(id);

      reply.hijack();
      reply.raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        // nginx buffers responses unless told not to.
        'x-accel-buffering': 'no',
      });
      reply.raw.write('retry: 2000\n\n');
      hub.subscribe(id, reply.raw, first);
      const limit = setTimeout(() => reply.raw.end(), MAX_STREAM_MS);
      reply.raw.on('close', () => {
        clearTimeout(limit);
        hub.unsubscribe(id, reply.raw);
      });
    },
  );
}

interface Watch {
  readonly subscribers: Set<ServerResponse>;
  readonly timer: NodeJS.Timeout;
  last: string;
  lastWriteAt: number;
  reading: boolean;
}

/**
 * One reader per watched rollout however many browsers watch it, so the database load does
 * not grow with the audience.
 */
class RolloutWatchHub {
  readonly #watches = new Map<number, Watch>();

  constructor(
    private readonly rollouts: RolloutService,
    private readonly log: Logger,
  ) {}

  subscribe(id: number, res: ServerResponse, view: RolloutView): void {
    const json = JSON.stringify(view);
    let watch = this.#watches.get(id);
    if (!watch) {
      const timer = setInterval(() => void this.#poll(id), POLL_MS);
      timer.unref();
      watch = {
        subscribers: new Set(),
        timer,
        last: json,
        lastWriteAt: Date.now(),
        reading: false,
      };
      this.#watches.set(id, watch);
    }
    watch.subscribers.add(res);
    this.#write(watch, res, `event: rollout\ndata: ${json}\n\n`);
  }

  unsubscribe(id: number, res: ServerResponse): void {
    const watch = this.#watches.get(id);
    if (!watch) return;
    watch.subscribers.delete(res);
    if (watch.subscribers.size > 0) return;
    clearInterval(watch.timer);
    this.#watches.delete(id);
  }

  closeAll(): void {
    for (const [id, watch] of this.#watches) {
      for (const res of watch.subscribers) res.end();
      clearInterval(watch.timer);
      this.#watches.delete(id);
    }
  }

  async #poll(id: number): Promise<void> {
    const watch = this.#watches.get(id);
    if (!watch || watch.reading) return;
    watch.reading = true;
    try {
      const json = JSON.stringify(await this.rollouts.get(id));
      if (json !== watch.last) {
        watch.last = json;
        this.#broadcast(watch, `event: rollout\ndata: ${json}\n\n`);
      } else if (Date.now() - watch.lastWriteAt > HEARTBEAT_MS) {
        this.#broadcast(watch, ': ping\n\n');
      }
    } catch (error) {
      this.log.warn({ err: error, rolloutId: id }, 'reading a watched rollout failed');
    } finally {
      watch.reading = false;
    }
  }

  #broadcast(watch: Watch, text: string): void {
    for (const res of watch.subscribers) this.#write(watch, res, text);
  }

  #write(watch: Watch, res: ServerResponse, text: string): void {
    if (res.writableLength > MAX_BUFFERED) {
      res.destroy();
      return;
    }
    res.write(text);
    watch.lastWriteAt = Date.now();
  }
}
