import type { Context } from 'hono';
import type { FieldError } from '../../schema/problem.ts';

/** What the API answered: status, ETag and the parsed body (a document, a list or a problem). */
export interface ApiResult<T = any> {
  status: number;
  ok: boolean;
  etag: string | undefined;
  body: T;
  problem?: { title: string; detail?: string; status: number; errors?: FieldError[]; [k: string]: unknown };
}

export interface Fetcher {
  request(input: string, init: RequestInit, env?: unknown, ctx?: unknown): Response | Promise<Response>;
}

/**
 * The console's only way to read or change data: the API's own routes, called in-process with the signed-in user's
 * credential. Rights, validation, tenancy, ETags and revisions therefore have one origin, the API; the console only
 * renders what it answers.
 */
export class ConsoleApi {
  constructor(
    private readonly app: Fetcher,
    private readonly credential: string,
    private readonly c?: Context,
  ) {}

  async call<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResult<T>> {
    let ctx: unknown;
    try {
      ctx = this.c?.executionCtx;
    } catch {
      ctx = undefined; // no execution context outside Workers
    }
    const res = await this.app.request(
      path,
      {
        method,
        headers: { authorization: `Bearer ${this.credential}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      },
      this.c?.env,
      ctx,
    );
    const text = await res.text();
    const parsed = text ? (JSON.parse(text) as unknown) : undefined;
    const isProblem = (res.headers.get('content-type') ?? '').startsWith('application/problem+json');
    return { status: res.status, ok: res.ok, etag: res.headers.get('etag') ?? undefined, body: parsed as T, ...(isProblem ? { problem: parsed as ApiResult['problem'] } : {}) };
  }

  get<T = any>(path: string) {
    return this.call<T>('GET', path);
  }

  /** Every item of a list route (following cursors, up to `max`). */
  async all<T = any>(path: string, max = 1000): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | undefined;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const res = await this.get<{ items: T[]; nextCursor?: string }>(`${path}${sep}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      if (!res.ok) break;
      items.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor && items.length < max);
    return items;
  }
}
