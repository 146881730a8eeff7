import { BundleVerificationError } from './errors.ts';
import type { JWKS } from './jws.ts';
import { fetchTrustAnchor, mergeAnchor, type TrustRefresh, type TrustStore } from './trust.ts';

export interface TrustKeeperOptions {
  url: string;
  credential: string;
  /** The anchor to start from. */
  trust: JWKS;
  trustStore?: TrustStore | undefined;
  /** Between periodic refreshes; 0: only on demand. */
  trustRefreshMs: number;
  downloadTimeoutMs: number;
  allowHttpTrustRefresh: boolean;
  fetch: typeof fetch;
  now: () => number;
}

/** After a failed refresh, try again after this long (or the interval, if shorter). */
const RETRY_MS = 5 * 60_000;

/** A failed save of the refreshed anchor; the anchor in use is unchanged. */
export class TrustPersistError extends Error {
  override readonly name = 'TrustPersistError';
}

/**
 * The client's trust anchor and its refreshes (see `mergeAnchor` for the rule that keeps pinned keys). Concurrent
 * refreshes share one request. A refreshed anchor is saved before it is used.
 */
export class TrustKeeper {
  #anchor: JWKS;
  #dueAt: number;
  #inflight: Promise<TrustRefresh> | undefined;

  constructor(private readonly o: TrustKeeperOptions) {
    this.#anchor = o.trust;
    this.#dueAt = o.now() + o.trustRefreshMs;
  }

  get anchor(): JWKS {
    return this.#anchor;
  }

  /** Whether a periodic refresh is due. */
  get due(): boolean {
    return this.o.trustRefreshMs > 0 && this.o.now() >= this.#dueAt;
  }

  /** Fetches the published JWKS and adopts it; `pinned` is asked once the answer is in. */
  refresh(pinned: () => string[], signal?: AbortSignal): Promise<TrustRefresh> {
    this.#inflight ??= this.#refresh(pinned, signal).finally(() => (this.#inflight = undefined));
    return this.#inflight;
  }

  async #refresh(pinned: () => string[], signal: AbortSignal | undefined): Promise<TrustRefresh> {
    const { url, credential, fetch, downloadTimeoutMs: timeoutMs, allowHttpTrustRefresh: allowHttp, trustStore: store, trustRefreshMs: intervalMs, now } = this.o;
    this.#dueAt = now() + Math.min(intervalMs || RETRY_MS, RETRY_MS);
    const published = await fetchTrustAnchor({ url, credential, fetch, timeoutMs, allowHttp, ...(signal ? { signal } : {}) });
    const { trust, ...result } = mergeAnchor(published, this.#anchor, pinned());
    if (result.changed) {
      try {
        await store?.save(trust);
      } catch (cause) {
        throw new TrustPersistError(`the refreshed trust anchor could not be saved (kept the old one): ${(cause as Error).message}`, { cause });
      }
      this.#anchor = trust;
    }
    this.#dueAt = now() + intervalMs;
    return result;
  }

  /**
   * For a downloaded bundle refused with `unknown_key`: refreshes once, then `retry` verifies again. When the refresh
   * fails or brings nothing new, the original refusal stands, with the reason added to its message.
   */
  static async afterUnknownKey<T>(err: BundleVerificationError, refresh: () => Promise<TrustRefresh>, retry: () => Promise<T>): Promise<T> {
    let refreshed: TrustRefresh;
    try {
      refreshed = await refresh();
    } catch (cause) {
      throw new BundleVerificationError('unknown_key', `${err.message} (refreshing the trust anchor failed: ${(cause as Error).message})`, { cause });
    }
    if (!refreshed.changed) throw new BundleVerificationError('unknown_key', `${err.message}, not even after refreshing the trust anchor`, { cause: err });
    return retry();
  }
}
