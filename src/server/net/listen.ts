import type net from 'node:net';

/**
 * Connections the kernel may hold finished but not yet accepted. Node's default (511) is
 * overrun when thousands of devices restart or start their download in the same second while
 * the event loop is busy; the kernel then drops or resets the surplus (a TiJOS download that
 * is reset fails and costs a retry). Linux caps it at net.core.somaxconn.
 */
export const LISTEN_BACKLOG = 4096;

export class PortInUseError extends Error {
  override name = 'PortInUseError';
}

/**
 * Listens, turning "address in use" into a message that names the port and the option that
 * changes it (the standard ports are often taken: a system Mosquitto holds 1883).
 */
export function listenOrExplain(
  server: net.Server,
  host: string,
  port: number,
  about: { what: string; flag: string; env: string; hint?: string },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (error.code === 'EADDRINUSE' || error.code === 'EACCES') {
        const why =
          error.code === 'EADDRINUSE' ? 'is already in use' : 'may not be opened by this user';
        reject(
          new PortInUseError(
            `port ${port} for the ${about.what} ${why} (on ${host}). ` +
              `Choose another with ${about.flag} <port> or ${about.env}=<port>` +
              (about.hint ? `, ${about.hint}.` : '.'),
          ),
        );
      } else {
        reject(error);
      }
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ port, host, backlog: LISTEN_BACKLOG });
  });
}
