import type { Db } from '../db/db.ts';
import { claimDue, recordOutcome, type ClaimedDelivery, type Outcome } from './dispatch.store.ts';
import { parseRetryAfter, retryDelay } from './schedule.ts';
import { signedHeaders } from './signing.ts';
import { guardDestination, RefusedDestination, type Resolve } from './ssrf.ts';

/** What the dispatcher needs from its runtime; entry files (node.ts, worker.ts) and tests provide it. */
export interface DispatchDeps {
  fetch: typeof fetch;
  now: () => Date;
  resolve: Resolve;
  random: () => number;
  /** Development only: http and loopback receivers. */
  allowLoopback: boolean;
  /** Per attempt; 15 s unless a test says otherwise. */
  timeoutMs?: number;
  batchSize?: number;
}

export interface DispatchResult {
  attempted: number;
  delivered: number;
  /** The batch was full: more may be due at once. */
  more: boolean;
}

export const TIMEOUT_MS = 15_000;
const LEASE_MARGIN_MS = 45_000;
const SNIPPET = 256;
const USER_AGENT = 'Palisade-Webhooks/1';

/** The start of a response body, for the delivery log; the rest is not read. */
async function snippet(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < SNIPPET) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // a body that breaks off says nothing more
  } finally {
    void reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) bytes.set(c, (at += c.length) - c.length);
  return new TextDecoder().decode(bytes.subarray(0, SNIPPET)).trim();
}

function describeError(err: unknown, timeoutMs: number): string {
  if (err instanceof RefusedDestination) return `not sent: the URL ${err.message}`;
  const e = err as Error & { cause?: { message?: string; code?: string } };
  // A fetch whose connect-time lookup re-checks addresses (Node, workers/node.ts) fails with the refusal as its cause.
  if (e?.cause instanceof RefusedDestination) return `not sent: at connect time, ${e.cause.message}`;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${timeoutMs / 1000} s`;
  const cause = e?.cause?.code ?? e?.cause?.message;
  return `${e?.message ?? String(err)}${cause ? ` (${cause})` : ''}`;
}

/** One attempt: guard, sign, POST; answers its outcome and never throws. */
async function attempt(d: ClaimedDelivery, deps: DispatchDeps): Promise<Outcome> {
  const timeoutMs = deps.timeoutMs ?? TIMEOUT_MS;
  const retryOrFail = (statusCode: number | null, error: string | null, retryAfterMs?: number): Outcome => {
    const delay = retryDelay(d.attempts, deps.random, retryAfterMs);
    return delay === undefined ? { kind: 'failed', statusCode, error } : { kind: 'retry', statusCode, error, at: new Date(deps.now().getTime() + delay) };
  };
  try {
    const url = await guardDestination(d.url, { resolve: deps.resolve, allowLoopback: deps.allowLoopback });
    const body = JSON.stringify(d.payload);
    const headers = await signedHeaders(d.secrets, d.id, deps.now(), body);
    const send = deps.fetch; // called unbound: Workers refuse a fetch called on another object
    const res = await send(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'user-agent': USER_AGENT },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await snippet(res);
    if (res.status >= 200 && res.status < 300) return { kind: 'delivered', statusCode: res.status };
    const error = `HTTP ${res.status}${text ? `: ${text}` : ''}`;
    if (res.status === 410) return { kind: 'gone', statusCode: 410, error };
    const retryAfter = res.status === 429 || res.status === 503 ? parseRetryAfter(res.headers.get('retry-after'), deps.now()) : undefined;
    return retryOrFail(res.status, error, retryAfter);
  } catch (err) {
    return retryOrFail(null, describeError(err, timeoutMs));
  }
}

/**
 * Sends every delivery due now, one batch: claims them across tenants, attempts them side by side and records each
 * outcome. 2xx: delivered. 410: the endpoint is disabled and its pending deliveries fail. 429 and 503 honour
 * Retry-After. Anything else (other statuses, redirects, timeouts, refusals of the SSRF guard) is retried on the
 * schedule, and fails after the last attempt.
 */
export async function dispatchDue(db: Db, deps: DispatchDeps): Promise<DispatchResult> {
  const batchSize = deps.batchSize ?? 50;
  const now = deps.now();
  const leaseUntil = new Date(now.getTime() + (deps.timeoutMs ?? TIMEOUT_MS) + LEASE_MARGIN_MS);
  const claimed = await claimDue(db, now, leaseUntil, batchSize);
  const outcomes = await Promise.all(
    claimed.map(async (d) => {
      const outcome = await attempt(d, deps);
      await recordOutcome(db, d, outcome, deps.now());
      return outcome;
    }),
  );
  return { attempted: claimed.length, delivered: outcomes.filter((o) => o.kind === 'delivered').length, more: claimed.length === batchSize };
}
