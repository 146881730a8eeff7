import { createConnection } from 'node:net';
import { WebSocketServer, type RawData } from 'ws';

export interface NeonProxy {
  /** `127.0.0.1:PORT`, the value for PALISADE_NEON_WS_PROXY. */
  address: string;
  /** WebSocket connections forwarded so far. */
  readonly connections: number;
  close(): Promise<void>;
}

/**
 * A local stand-in for Neon's WebSocket proxy: pipes each WebSocket to one TCP Postgres server. It forwards only to
 * `target` (`host:port`); any other `?address=` is refused with 403, so it is never an open proxy.
 */
export async function startNeonProxy(target: string): Promise<NeonProxy> {
  const [host, port] = splitHostPort(target);
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    verifyClient: ({ req }, done) => {
      const address = new URL(req.url ?? '/', 'http://proxy').searchParams.get('address');
      if (address === target) done(true);
      else done(false, 403, `this proxy forwards only to ${target}`);
    },
  });
  let connections = 0;
  wss.on('connection', (socket) => {
    connections++;
    const tcp = createConnection({ host, port });
    // net.Socket queues writes made before the connection is up
    tcp.on('data', (data) => socket.send(data));
    tcp.on('error', () => socket.terminate());
    tcp.on('close', () => socket.close());
    socket.on('message', (data: RawData) => {
      tcp.write(Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data));
    });
    socket.on('close', () => tcp.destroy());
    socket.on('error', () => tcp.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const { port: listening } = wss.address() as { port: number };
  return {
    address: `127.0.0.1:${listening}`,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
}

function splitHostPort(target: string): [string, number] {
  const at = target.lastIndexOf(':');
  const port = Number(target.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port)) throw new Error(`expected host:port, got ${target}`);
  return [target.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port];
}
