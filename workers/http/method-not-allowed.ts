import type { Context, Hono } from 'hono';
import { PalisadeError } from './errors.ts';
import { problemResponse } from './problem.ts';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

function patternOf(path: string): RegExp {
  const source = path
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part === '*' ? '.*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}/?$`);
}

/** Unknown route → 404, known path with another method → 405 with `Allow`; both as problem+json. */
export function notFoundOrNotAllowed(app: Hono<any>) {
  let routes: Array<{ method: string; pattern: RegExp }> | undefined;
  return (c: Context) => {
    routes ??= app.routes.filter((r) => METHODS.includes(r.method)).map((r) => ({ method: r.method, pattern: patternOf(r.path) }));
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(c.req.path)).map((r) => r.method))];
    if (allowed.length > 0 && !allowed.includes(c.req.method)) {
      if (allowed.includes('GET')) allowed.push('HEAD');
      return problemResponse(c, new PalisadeError('method_not_allowed', `${c.req.method} is not allowed on ${c.req.path}; use ${allowed.join(', ')}`, { headers: { allow: allowed.join(', ') } }));
    }
    return problemResponse(c, new PalisadeError('not_found', `no route for ${c.req.method} ${c.req.path}`));
  };
}
