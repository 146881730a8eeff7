import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { Harness } from '../../../test/support/harness.ts';

export interface LiveApp {
  /** `http://127.0.0.1:PORT`, a loopback address: trust refreshes over plain HTTP are allowed to it. */
  url: string;
  /** Paths requested so far, in order. */
  readonly paths: string[];
  /** Serves another instance of the app from now on, e.g. one restarted with another key ring. */
  use(next: Harness): void;
  close(): Promise<void>;
}

/** The real control-plane app on a local port, for agents (and `palisade-agent` processes) to talk to over HTTP. */
export async function serveApp(first: Harness): Promise<LiveApp> {
  let current = first;
  const paths: string[] = [];
  const server = createServer(
    getRequestListener((req) => {
      paths.push(new URL(req.url).pathname);
      return current.app.fetch(req);
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    paths,
    use: (next) => void (current = next),
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
