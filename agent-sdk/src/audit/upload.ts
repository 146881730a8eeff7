import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { ControlPlaneError, endpoint, readLimited, withDeadline } from '../bundle/http.ts';

const gzipAsync = promisify(gzipCallback);
/**
 * Fastest compression: audit NDJSON repeats its keys and policy texts, so level 1 still shrinks a batch about 45x,
 * while the default level 6 cost 5x the CPU (132 µs against 25 µs per 8 KiB admission event, measured on the webhook
 * bench's events), CPU the agent takes from admission decisions on the same node.
 */
const gzip = (data: Buffer) => gzipAsync(data, { level: 1 });

export const EVENTS_PATH = '/v1/agent/events';

/**
 * What the server made of one batch. `acked`: 2xx, the batch is durable there (`rejected` are the indexes it refused
 * as invalid). `split`: the batch as a whole was refused (413 too large, 400 unreadable, 415 unsupported) and is to be
 * retried in halves, a single event being dropped. `invalid`: 422, none of its events is valid. `retry`: anything else
 * (network, timeout, 401/403, 429, 5xx, ...), with the server's `Retry-After` on 429 and 503.
 */
export type UploadOutcome =
  | { kind: 'acked'; status: number; accepted: number; duplicates: number; rejected: number }
  | { kind: 'split'; status: number }
  | { kind: 'invalid'; status: number }
  | { kind: 'retry'; error: ControlPlaneError; retryAfterMs?: number };

export interface UploadOptions {
  url: string;
  credential: string;
  fetch: typeof fetch;
  timeoutMs: number;
  gzip: boolean;
  now: () => number;
  signal?: AbortSignal;
}

/** `POST /v1/agent/events` with the events as NDJSON (one spooled JSON text a line), gzip-compressed by default. */
export async function uploadBatch(lines: readonly string[], o: UploadOptions): Promise<UploadOutcome> {
  const text = Buffer.from(lines.join('\n') + '\n', 'utf8');
  const body = o.gzip ? await gzip(text) : text;
  const headers: Record<string, string> = { authorization: `Bearer ${o.credential}`, 'content-type': 'application/x-ndjson', ...(o.gzip ? { 'content-encoding': 'gzip' } : {}) };
  try {
    return await withDeadline(o.timeoutMs, o.signal, async (signal) => {
      const res = await o.fetch(endpoint(o.url, EVENTS_PATH), { method: 'POST', headers, body: new Uint8Array(body), signal, redirect: 'error' });
      const answer = await readLimited(res.body, 1 << 20).catch(() => new Uint8Array());
      if (res.ok) return acked(res.status, answer, lines.length);
      if (res.status === 413 || res.status === 400 || res.status === 415) return { kind: 'split', status: res.status };
      if (res.status === 422) return { kind: 'invalid', status: res.status };
      const retryAfterMs = res.status === 429 || res.status === 503 ? parseRetryAfter(res.headers.get('retry-after'), o.now()) : undefined;
      const code = res.status === 401 || res.status === 403 ? 'unauthorized' : 'http_error';
      const error = new ControlPlaneError(code, `audit events: HTTP ${res.status}${problemText(answer)}`, { status: res.status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
      return { kind: 'retry', error, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
    });
  } catch (err) {
    if (err instanceof ControlPlaneError) return { kind: 'retry', error: err };
    throw err; // stopped
  }
}

/**
 * `Retry-After` in milliseconds: delay-seconds, or an HTTP date (relative to `now`); undefined when absent or
 * unreadable.
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  const v = value?.trim() ?? '';
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const date = v === '' ? NaN : Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function acked(status: number, answer: Uint8Array, count: number): UploadOutcome {
  const body = parse(answer) as { accepted?: unknown; duplicates?: unknown; rejected?: unknown };
  const indexes = Array.isArray(body.rejected) ? body.rejected.map((r) => (r as { index?: unknown })?.index) : [];
  const rejected = new Set(indexes.filter((i): i is number => Number.isInteger(i) && (i as number) >= 0 && (i as number) < count)).size;
  const num = (v: unknown) => (Number.isInteger(v) && (v as number) >= 0 ? (v as number) : 0);
  return { kind: 'acked', status, accepted: num(body.accepted), duplicates: num(body.duplicates), rejected };
}

function parse(bytes: Uint8Array): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function problemText(answer: Uint8Array): string {
  const { title, detail } = parse(answer);
  const text = [title, detail].filter((s) => typeof s === 'string').join(': ');
  return text ? ` (${text})` : '';
}
