import { SseParser } from './sse-parser';
import type { RolloutView } from './types';

export type StreamState = 'connecting' | 'live' | 'reconnecting';

export interface RolloutStreamHandlers {
  onView: (view: RolloutView) => void;
  onState: (state: StreamState) => void;
  /** The server refused the token or does not know the rollout: stop, do not retry. */
  onFatal: (status: number) => void;
}

const MAX_BACKOFF_MS = 10_000;
/** A stream that lasted this long was healthy: its end is no reason to back off. */
const HEALTHY_MS = 10_000;

/**
 * Follows `GET /api/v1/rollouts/:id/events` with fetch() (EventSource cannot send the bearer
 * header) and reconnects with backoff when the stream drops. Returns a function that stops it.
 */
export function followRollout(
  token: string,
  id: number,
  handlers: RolloutStreamHandlers,
): () => void {
  const abort = new AbortController();

  const connect = async (): Promise<void> => {
    let backoff = 500;
    handlers.onState('connecting');
    while (!abort.signal.aborted) {
      const started = Date.now();
      const { status, opened } = await readStream(token, id, abort.signal, handlers);
      if (status === 401 || status === 403 || status === 404) {
        handlers.onState('reconnecting');
        handlers.onFatal(status);
        return;
      }
      if (abort.signal.aborted) return;
      if (opened && Date.now() - started > HEALTHY_MS) {
        backoff = 500;
        // The server ends every stream after a few minutes: reconnect at once, without alarm.
        if (status === 200) continue;
      }
      handlers.onState('reconnecting');
      await sleep(backoff, abort.signal);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  };
  void connect();
  return () => abort.abort();
}

/**
 * Reads one connection until it ends: its HTTP status (0 when the fetch failed) and whether
 * it got as far as streaming.
 */
async function readStream(
  token: string,
  id: number,
  signal: AbortSignal,
  handlers: RolloutStreamHandlers,
): Promise<{ status: number; opened: boolean }> {
  let opened = false;
  try {
    const response = await fetch(`/api/v1/rollouts/${id}/events`, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      signal,
    });
    if (!response.ok || !response.body) return { status: response.status, opened };

    opened = true;
    handlers.onState('live');
    const parser = new SseParser();
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return { status: response.status, opened };
      for (const event of parser.push(value)) {
        if (event.event === 'rollout') handlers.onView(JSON.parse(event.data) as RolloutView);
      }
    }
  } catch {
    return { status: 0, opened };
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
