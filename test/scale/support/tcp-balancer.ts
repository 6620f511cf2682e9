import net from 'node:net';

export interface TcpBalancer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The load balancer in front of the replicas (docs/deploy.md), as small as a test needs: each
 * connection goes to the next backend in turn, and to the one after when a backend refuses it
 * (a killed replica), which is what a balancer's failed connect / health check amounts to.
 */
export async function startTcpBalancer(backends: () => number[]): Promise<TcpBalancer> {
  let turn = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    client.pause();
    const ports = backends();
    const start = turn++;
    const attempt = (tried: number): void => {
      if (tried >= ports.length) return void client.destroy();
      const upstream = net.connect(ports[(start + tried) % ports.length], '127.0.0.1');
      let connected = false;
      upstream.on('error', () => (connected ? client.destroy() : attempt(tried + 1)));
      upstream.once('connect', () => {
        connected = true;
        sockets.add(upstream);
        upstream.once('close', () => sockets.delete(upstream));
        client.on('error', () => upstream.destroy());
        client.pipe(upstream).pipe(client);
        client.resume();
      });
    };
    attempt(0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
