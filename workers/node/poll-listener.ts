import { createServer, type RequestListener, type ServerOptions } from 'node:http';
import { BUNDLE_PATH } from '../agents/bundle.download.ts';
import type { PalisadeApp } from '../app.ts';

/**
 * `http.createServer` for `@hono/node-server`'s `serve`, answering unchanged bundle polls (most of an agent fleet's
 * requests) from the raw request, before a `Request`, its `Headers` and Hono's dispatch are built: the same 304 the
 * app's own middleware gives (one function decides both), at about the cost of a bare HTTP server. Everything else,
 * and every poll memory cannot answer, goes to the app unchanged.
 */
export function pollAnsweringServer(app: Pick<PalisadeApp, 'unchangedPoll'>): typeof createServer {
  const server = (options: ServerOptions, listener: RequestListener) =>
    createServer(options, (req, res) => {
      // Exactly the path: a query string (`?wait=`) or anything else takes the app's route.
      if (req.url === BUNDLE_PATH && req.method === 'GET') {
        const headers = app.unchangedPoll({ method: 'GET', target: req.url, ifNoneMatch: req.headers['if-none-match'], authorization: req.headers.authorization });
        if (headers) return void res.writeHead(304, headers).end();
      }
      listener(req, res);
    });
  return server as typeof createServer;
}
