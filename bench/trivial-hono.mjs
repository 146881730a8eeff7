// The start-up benchmark's baseline (bench/startup.bench.ts): the smallest Hono app on @hono/node-server, answering
// /healthz, started the way `npm start` starts the server (plain `node` on JavaScript).
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const app = new Hono();
app.get('/healthz', (c) => c.json({ status: 'ok' }));
serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 8787) });
