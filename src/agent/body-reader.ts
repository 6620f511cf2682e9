import type { IncomingMessage } from 'node:http';

/**
 * Hands every chunk of a response body to `consume`, one at a time, and settles once the body
 * ended or broke off and every chunk received was consumed. The stream stays flowing (it is
 * paused only while `holdBack` says so, for a simulated slow link): bytes that reached the
 * process are never lost to a connection that drops a moment later, as they would be in a
 * paused stream's buffer. Resolves with whether the body was complete; rejects with the first
 * error `consume` threw (the connection is destroyed then).
 */
export function readBody(
  res: IncomingMessage,
  consume: (chunk: Buffer) => Promise<void>,
  holdBack = false,
): Promise<boolean> {
  return new Promise((resolve, reject) => {
    let chain: Promise<void> = Promise.resolve();
    let failure: unknown = null;
    let settled = false;

    res.on('data', (chunk: Buffer) => {
      if (holdBack) res.pause();
      chain = chain
        .then(async () => {
          if (failure !== null) return;
          await consume(chunk);
          if (holdBack && !res.destroyed) res.resume();
        })
        .catch((error: unknown) => {
          failure ??= error;
          res.destroy();
        });
    });
    const finish = (): void => {
      if (settled) return;
      settled = true;
      void chain.then(() => (failure !== null ? reject(failure) : resolve(res.complete)));
    };
    res.on('end', finish);
    res.on('close', finish);
    res.on('error', finish);
  });
}
