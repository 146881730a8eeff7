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
  /** Attempts one pass makes at most before it answers `more` (500). */
  batchSize?: number;
  /** Aborted: the pass claims nothing more and ends once its attempts in flight are recorded (the loop's stop). */
  signal?: AbortSignal;
  /** Attempts in flight at once in this dispatcher (16), and across dispatchers per endpoint (2) and per tenant (4). */
  maxInFlight?: number;
  perEndpoint?: number;
  perTenant?: number;
  /** While attempts are in flight, how often the pass looks for newly due deliveries (500 ms). */
  pollMs?: number;
}

export interface DispatchResult {
  attempted: number;
  delivered: number;
  /** The pass stopped at its budget of attempts: more may be due at once. */
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
 * Sends what is due now, fairly: claims (see `claimDue`) at most a few attempts per endpoint and per tenant, sends them
 * side by side and records each outcome, and claims again as soon as one finishes, and every `pollMs` while any is in
 * flight (deliveries stored meanwhile): a slow receiver holds its own slots until its timeout, never the pass. The pass
 * ends when nothing is in flight and nothing more can be claimed, after `batchSize` attempts (`more`), or once
 * `signal` is aborted.
 * 2xx: delivered. 410: the endpoint is disabled and its pending deliveries fail. 429 and 503 honour Retry-After.
 * Anything else (other statuses, redirects, timeouts, refusals of the SSRF guard) is retried on the schedule, and
 * fails after the last attempt.
 */
export async function dispatchDue(db: Db, deps: DispatchDeps): Promise<DispatchResult> {
  const budget = deps.batchSize ?? 500;
  const maxInFlight = deps.maxInFlight ?? 16;
  const caps = { perEndpoint: deps.perEndpoint ?? 2, perTenant: deps.perTenant ?? 4 };
  const pollMs = deps.pollMs ?? 500;
  const inFlight = new Set<Promise<void>>();
  let attempted = 0;
  let delivered = 0;
  let failure: unknown;

  const claimMore = async (): Promise<number> => {
    const now = deps.now();
    const leaseUntil = new Date(now.getTime() + (deps.timeoutMs ?? TIMEOUT_MS) + LEASE_MARGIN_MS);
    const claimed = await claimDue(db, now, leaseUntil, Math.min(maxInFlight - inFlight.size, budget - attempted), caps);
    attempted += claimed.length;
    for (const d of claimed) {
      const run = attempt(d, deps)
        .then(async (outcome) => {
          if (outcome.kind === 'delivered') delivered++;
          await recordOutcome(db, d, outcome, deps.now());
        })
        .catch((err: unknown) => void (failure ??= err))
        .finally(() => inFlight.delete(run));
      inFlight.add(run);
    }
    return claimed.length;
  };

  await claimMore();
  while (inFlight.size > 0) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = new Promise<void>((resolve) => (timer = setTimeout(resolve, pollMs)));
    await Promise.race([...inFlight, tick]);
    clearTimeout(timer);
    if (failure === undefined && attempted < budget && !deps.signal?.aborted) await claimMore().catch((err: unknown) => void (failure ??= err));
  }
  if (failure !== undefined) throw failure;
  return { attempted, delivered, more: attempted >= budget };
}
