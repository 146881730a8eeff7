import { backoffDelay, pollDelay } from './backoff.ts';
import { resolveOptions, type BundleClientOptions, type PollResult, type ResolvedOptions } from './client-options.ts';
import { PollRecord } from './client-state.ts';
import { downloadBundle } from './download.ts';
import { BundleVerificationError } from './errors.ts';
import type { JWKS } from './jws.ts';
import type { StatusDocument } from './status.ts';
import type { TrustRefresh } from './trust.ts';
import { TrustKeeper } from './trust-keeper.ts';
import { verifyBundle, type VerifiedBundle } from './verify.ts';

export type { BundleClientOptions, PollResult } from './client-options.ts';

/**
 * Keeps one cluster's policy bundle current: polls with `If-None-Match`, verifies every download, and only then
 * persists and activates it. Any failure leaves the last good bundle active and is recorded for `status()`. Keeps
 * its trust anchor current too: hourly, and once when a bundle arrives signed by a key it does not know.
 *
 * @example
 * ```ts
 * const client = new BundleClient({ url, credential, trust, issuer, tenantId, clusterId, store,
 *   onPoll: (r) => r.outcome === 'activated' && engine.load(r.bundle.content) });
 * await client.restore(); // last good bundle from disk, even with the control plane down
 * client.start();         // poll every 30-60 s, back off on errors
 * // ... on shutdown
 * await client.stop();
 * ```
 */
export class BundleClient {
  private readonly o: ResolvedOptions;
  private readonly record = new PollRecord();
  private readonly trust: TrustKeeper;
  private current: VerifiedBundle | null = null;
  /** The key of the bundle in the store, as far as this client knows; pinned like the active bundle's. */
  private storedKid: string | null = null;
  private etag: string | null = null;
  private restored = false;
  private inflight: Promise<PollResult> | undefined;
  private loop: { controller: AbortController; done: Promise<void> } | undefined;

  constructor(options: BundleClientOptions) {
    this.o = resolveOptions(options);
    this.trust = new TrustKeeper(this.o);
  }

  /** The trust anchor in use: the configured one, or the last refreshed one. */
  get trustAnchor(): JWKS {
    return this.trust.anchor;
  }

  /** The bundle in force, or null before the first one. */
  get active(): VerifiedBundle | null {
    return this.current;
  }

  /**
   * Loads the stored bundle, if any, and activates it after verifying it again. An expired one is still loaded, as
   * last known good, and reported as `expired` in `status()` until a newer bundle arrives. `start()` calls it.
   */
  async restore(): Promise<VerifiedBundle | null> {
    this.restored = true;
    try {
      const saved = await this.o.store?.load();
      if (!saved) return null;
      const bundle = await verifyBundle(saved.jws, { ...this.checks(), allowExpired: true });
      this.activate(bundle, saved.digest === bundle.digest ? saved.etag : null);
      this.storedKid = bundle.kid;
      return bundle;
    } catch (err) {
      this.record.note(err, this.clock());
      this.record.lastError!.message = `stored bundle not used: ${this.record.lastError!.message}`;
      return null;
    }
  }

  /** One poll: download if changed, verify, persist, activate. Concurrent calls share one request. */
  pollOnce(): Promise<PollResult> {
    this.inflight ??= this.poll().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  /**
   * Refreshes the trust anchor from the control plane's JWKS now, saving it to `trustStore` before using it. The keys
   * of the active and of the stored bundle are never dropped (see `mergeAnchor`). A failure is kept for `status()`.
   */
  async refreshTrust(signal?: AbortSignal): Promise<TrustRefresh> {
    const pinned = () => [...new Set([this.current?.kid, this.storedKid].filter((kid): kid is string => !!kid))];
    try {
      const result = await this.trust.refresh(pinned, signal);
      this.record.trustRefreshed(undefined, this.clock());
      return result;
    } catch (err) {
      this.record.trustRefreshed(err, this.clock());
      throw err;
    }
  }

  /** Starts polling in the background (restoring the stored bundle first, unless done already). */
  start(): void {
    if (this.loop) return;
    const controller = new AbortController();
    const run = async () => {
      if (!this.restored) await this.restore();
      while (!controller.signal.aborted) {
        const result = await this.pollOnce(); // not inside `onPoll?.(...)`: that would skip the poll without a listener
        this.notify(result);
        if (!controller.signal.aborted) await this.o.sleep(this.nextDelay(), controller.signal);
      }
    };
    this.loop = { controller, done: run() };
  }

  /** Stops polling, aborting a download in progress. */
  async stop(): Promise<void> {
    const loop = this.loop;
    if (!loop) return;
    loop.controller.abort();
    await loop.done;
    this.loop = undefined;
  }

  /** The status document for `POST /v1/agent/status`. */
  status(): StatusDocument {
    return this.record.document(this.current, this.clock(), this.o.agentVersion);
  }

  /** Milliseconds until the next poll: the jittered interval, or backoff after failures. */
  nextDelay(): number {
    const { timing, random, waitSeconds } = this.o;
    if (this.record.failures > 0) return backoffDelay(this.record.failures, timing, random, this.record.retryAfterMs);
    return waitSeconds > 0 ? Math.round(random() * 1000) : pollDelay(timing, random);
  }

  private async poll(): Promise<PollResult> {
    const signal = this.loop?.controller.signal;
    const { url, credential, waitSeconds, maxBytes, fetch, downloadTimeoutMs: timeoutMs } = this.o;
    this.record.counters.polls++;
    if (this.trust.due) await this.refreshTrust(signal).catch(() => undefined); // recorded; the poll goes on
    try {
      const res = await downloadBundle({ url, credential, etag: this.etag, waitSeconds, maxBytes, timeoutMs, fetch, ...(signal ? { signal } : {}) });
      if (res.status === 'not_modified') {
        this.record.succeeded();
        this.record.counters.notModified++;
        return { outcome: 'not_modified' };
      }
      this.record.counters.downloads++;
      this.record.lastDownloadAt = this.clock();
      const verify = () => verifyBundle(res.body, this.checks());
      const bundle = await verify().catch((err: unknown) => {
        if (!(err instanceof BundleVerificationError) || err.code !== 'unknown_key') throw err;
        return TrustKeeper.afterUnknownKey(err, () => this.refreshTrust(signal), verify);
      });
      this.record.succeeded(); // only now: a control plane serving a bad bundle keeps being backed off from
      await this.o.beforeActivate?.(bundle);
      try {
        await this.o.store?.save({ jws: bundle.jws, etag: res.etag, revision: bundle.revision, digest: bundle.digest });
        this.storedKid = bundle.kid;
      } catch (err) {
        // Verified and newer: enforce it anyway; only a restart would fall back to the older stored bundle.
        this.record.note(err, this.clock(), 'persist_failed');
      }
      this.activate(bundle, res.etag);
      return { outcome: 'activated', bundle };
    } catch (err) {
      return signal?.aborted ? { outcome: 'stopped' } : this.record.failed(err, this.clock());
    }
  }

  /** What every bundle is checked against; rollback protection starts at the active revision. */
  private checks() {
    const { issuer, tenantId, clusterId, maxBytes } = this.o;
    return { trust: this.trust.anchor, issuer, tenantId, clusterId, maxBytes, now: this.clock(), ...(this.current ? { minRevision: this.current.revision } : {}) };
  }

  private activate(bundle: VerifiedBundle, etag: string | null): void {
    this.current = bundle;
    this.etag = etag;
    this.record.activated(this.clock());
  }

  /** A throwing listener must not end the loop; its error is recorded like any other. */
  private notify(result: PollResult): void {
    try {
      this.o.onPoll?.(result);
    } catch (err) {
      this.record.note(err, this.clock());
    }
  }

  private clock(): Date {
    return new Date(this.o.now());
  }
}
