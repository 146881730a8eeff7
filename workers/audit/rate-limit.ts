import { PalisadeError } from '../http/errors.ts';

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per key (a cluster), counted in events: it holds up to `burst` tokens and gains `perSecond` a second.
 * The buckets live in memory, so the limit holds per process on Node and per isolate on Workers (where a busy
 * cluster may be served by several isolates, each with its own bucket): it keeps one agent from flooding the
 * database, it is not an exact global quota.
 */
export class TokenBuckets {
  readonly #buckets = new Map<string, Bucket>();
  constructor(
    readonly perSecond: number,
    readonly burst: number,
  ) {
    if (!(perSecond > 0) || !(burst >= 1)) throw new Error('the rate limit needs a positive rate and a burst of at least 1');
  }

  #refill(key: string, now: number): Bucket {
    const bucket = this.#buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    this.#buckets.set(key, bucket);
    return bucket;
  }

  /** Seconds until `cost` tokens are there (0: now); more than `burst` is capped so that a retry can succeed. */
  wait(key: string, cost: number, now: number): number {
    const bucket = this.#refill(key, now);
    const missing = Math.min(cost, this.burst) - bucket.tokens;
    return missing <= 0 ? 0 : Math.max(1, Math.ceil(missing / this.perSecond));
  }

  /** Throws 429 with `Retry-After` unless `cost` tokens are there; takes none. */
  ensure(key: string, cost: number, now: number): void {
    const retryAfter = this.wait(key, cost, now);
    if (retryAfter > 0) {
      throw new PalisadeError('rate_limited', `this cluster sends events faster than ${this.perSecond} a second (bursts up to ${this.burst}); retry in ${retryAfter} s`, {
        headers: { 'retry-after': String(retryAfter) },
        extensions: { retryAfterSeconds: retryAfter },
      });
    }
  }

  /** Takes `cost` tokens, or throws 429 with `Retry-After` and takes none. */
  take(key: string, cost: number, now: number): void {
    this.ensure(key, cost, now);
    this.#buckets.get(key)!.tokens -= Math.min(cost, this.burst);
    this.#prune(now);
  }

  /** Full buckets carry no state worth keeping; drop them once the map grows. */
  #prune(now: number): void {
    if (this.#buckets.size < 10_000) return;
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond >= this.burst) this.#buckets.delete(key);
    }
  }
}
