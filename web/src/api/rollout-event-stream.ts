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
  let backoff = 500;

  const connect = async (): Promise<void> => {
    while (!abort.signal.aborted) {
      handlers.onState(backoff === 500 ? 'connecting' : 'reconnecting');
      const status = await readStream(token, id, abort.signal, handlers, () => (backoff = 500));
      if (status === 401 || status === 403 || status === 404) {
        handlers.onFatal(status);
        return;
      }
      if (abort.signal.aborted) return;
      handlers.onState('reconnecting');
      await sleep(backoff, abort.signal);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  };
  void connect();
  return () => abort.abort();
}

/** Reads one connection until it ends; returns the HTTP status (0 when the fetch failed). */
async function readStream(
  token: string,
  id: number,
  signal: AbortSignal,
  handlers: RolloutStreamHandlers,
  onOpen: () => void,
): Promise<number> {
  try {
    const response = await fetch(`/api/v1/rollouts/${id}/events`, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      signal,
    });
    if (!response.ok || !response.body) return response.status;

    onOpen();
    handlers.onState('live');
    const parser = new SseParser();
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return response.status;
      for (const event of parser.push(value)) {
        if (event.event === 'rollout') handlers.onView(JSON.parse(event.data) as RolloutView);
      }
    }
  } catch {
    return 0;
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
