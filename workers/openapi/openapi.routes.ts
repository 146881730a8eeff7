import type { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { renderDocsPage } from './docs.page.ts';
import { buildOpenApiDocument, type OpenApiDocument } from './openapi.document.ts';

/**
 * `GET /openapi.json` and `GET /docs`. Both are built on first request, once every route of the app is registered,
 * and kept for the app's lifetime.
 */
export function registerDocsRoutes(app: Hono<AppEnv>): void {
  let document: OpenApiDocument | undefined;
  let json: string | undefined;
  let page: string | undefined;
  const described = () => (document ??= buildOpenApiDocument(app));

  app.get('/openapi.json', (c) => {
    json ??= JSON.stringify(described());
    return c.body(json, 200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'public, max-age=300' });
  });
  app.get('/docs', (c) => {
    page ??= renderDocsPage(described());
    return c.html(page, 200, { 'cache-control': 'public, max-age=300' });
  });
}
