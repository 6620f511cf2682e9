import http, { type Agent as HttpAgent, type IncomingMessage } from 'node:http';
import https from 'node:https';

export interface GetOptions {
  readonly headers: Record<string, string>;
  readonly agent?: HttpAgent;
  /** Socket silence that counts as a dropped connection, milliseconds. */
  readonly idleTimeoutMs: number;
  /** Epoch milliseconds after which the request is destroyed and marked `timedOut`. */
  readonly deadline: number;
  readonly signal?: AbortSignal;
}

/** A response whose body is still to be read, and the handles to stop it. */
export interface OpenResponse {
  readonly res: IncomingMessage;
  /** Destroys the connection (the body iterator then ends or throws). */
  readonly discard: () => void;
  /** Whether discard() was called. */
  readonly cut: boolean;
  /** Whether the deadline destroyed the request. */
  readonly timedOut: boolean;
}

/**
 * One plain GET, following no redirect (a 3xx comes back as it is). Resolves on the response
 * head; the body is the caller's to read. Works for http and https URLs.
 */
export function openGet(url: string, options: GetOptions): Promise<OpenResponse> {
  return new Promise((resolve, reject) => {
    let cut = false;
    let timedOut = false;
    const get = url.startsWith('https:') ? https.get : http.get;
    const req = get(url, { headers: options.headers, agent: options.agent }, (res) => {
      const discard = (): void => {
        cut = true;
        res.destroy();
        req.destroy();
      };
      resolve({
        res,
        discard,
        get cut() {
          return cut;
        },
        get timedOut() {
          return timedOut;
        },
      });
    });
    req.setTimeout(options.idleTimeoutMs, () => req.destroy(new Error('no data for too long')));
    const timer = setTimeout(
      () => {
        timedOut = true;
        req.destroy(Object.assign(new Error('deadline reached'), { timedOut: true }));
      },
      Math.max(0, options.deadline - Date.now()),
    );
    const onAbort = (): void => {
      req.destroy(options.signal?.reason as Error);
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const clear = (): void => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    };
    req.on('close', clear);
    req.on('response', (res: IncomingMessage) => res.on('close', clear));
    req.on('error', reject);
  });
}
