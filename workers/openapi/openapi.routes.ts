import type { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';

export function registerDocsRoutes(app: Hono<AppEnv>): void {
  app.get('/openapi.json', (c) => c.json({ openapi: '3.1.0', info: { title: 'Palisade', version: '0.1.0' }, paths: {} }));
}
