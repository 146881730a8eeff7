import { AGENT_VERSION } from '../version.ts';
import { abortableSleep, backoffDelay, DEFAULT_TIMING, pollDelay, type PollTiming } from './backoff.ts';
import { downloadBundle } from './download.ts';
import { BundleVerificationError } from './errors.ts';
import { ControlPlaneError } from './http.ts';
import type { JWKS } from './jws.ts';
import type { BundleStore } from './persisted.ts';
import { agentError, reportedError, zeroCounters, type AgentError, type StatusDocument } from './status.ts';
import { DEFAULT_MAX_BUNDLE_BYTES, verifyBundle, type VerifiedBundle } from './verify.ts';

export interface BundleClientOptions {
  /** Control plane base URL. */
  url: string;
  /** The agent credential from enrollment, sent as a bearer token. */
  credential: string;
  /** Trust anchor from the agent's configuration. */
  trust: JWKS;
  issuer: string;
  tenantId: string;
  clusterId: string;
  /** Keeps the last good bundle across restarts; none by default. */
  store?: BundleStore;
  /** Default 8 MiB. */
  maxBytes?: number;
  /** Deadline of one download, default 30 s (plus `waitSeconds` when long polling). */
  downloadTimeoutMs?: number;
  /** Long poll `?wait=N`; 0 (default) polls at `timing.interval`. */
  waitSeconds?: number;
  timing?: Partial<PollTiming>;
  agentVersion?: string;
  /** Called after every poll, e.g. to log or to hand an activated bundle to the policy engine. */
  onPoll?: (result: PollResult) => void;
  fetch?: typeof fetch;
  /** Clock, milliseconds since the epoch. */
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Uniform in [0, 1), for jitter. */
  random?: () => number;
}

export type PollResult =
  | { outcome: 'activated'; bundle: VerifiedBundle }
  | { outcome: 'not_modified' }
  | { outcome: 'rejected'; error: BundleVerificationError }
  | { outcome: 'failed'; error: Error }
  | { outcome: 'stopped' };

/**
 * Keeps one cluster's policy bundle current: polls with `If-None-Match`, verifies every download, and only then
 * persists and activates it. Any failure leaves the last good bundle active and is recorded for `status()`.
 */
export class BundleClient {
  private readonly o: Required<Omit<BundleClientOptions, 'store' | 'onPoll' | 'timing'>> & Pick<BundleClientOptions, 'store' | 'onPoll'>;
  private readonly timing: PollTiming;
  private current: VerifiedBundle | null = null;
  private etag: string | null = null;
  private readonly counters = zeroCounters();
  private lastError: AgentError | null = null;
  private lastDownloadAt: Date | null = null;
  private lastActivationAt: Date | null = null;
  private failures = 0;
  private retryAfterMs: number | undefined;
  private restored = false;
  private inflight: Promise<PollResult> | undefined;
  private loop: { controller: AbortController; done: Promise<void> } | undefined;

  constructor(options: BundleClientOptions) {
    this.o = {
      maxBytes: DEFAULT_MAX_BUNDLE_BYTES,
      downloadTimeoutMs: 30_000,
      waitSeconds: 0,
      agentVersion: AGENT_VERSION,
      fetch: (input, init) => globalThis.fetch(input, init),
      now: Date.now,
      sleep: abortableSleep,
      random: Math.random,
      ...options,
    };
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
  }

  /** The bundle in force, or null before the first one. */
  get active(): VerifiedBundle | null {
    return this.current;
  }

  /**
   * Loads the stored bundle, if any, and activates it after verifying it again. An expired one is still loaded, as
   * last known good, and reported as `expired` in `status()` until a newer bundle arrives. Called by `start()`.
   */
  async restore(): Promise<VerifiedBundle | null> {
    this.restored = true;
    try {
      const saved = await this.o.store?.load();
      if (!saved) return null;
      const bundle = await verifyBundle(saved.jws, { ...this.checks(), ...this.floor(), allowExpired: true });
      this.activate(bundle, saved.digest === bundle.digest ? saved.etag : null);
      return bundle;
    } catch (err) {
      this.lastError = agentError(err, this.clock());
      this.lastError.message = `stored bundle not used: ${this.lastError.message}`;
      return null;
    }
  }

  /** One poll: download if changed, verify, persist, activate. Concurrent calls share one request. */
  pollOnce(): Promise<PollResult> {
    this.inflight ??= this.poll().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  /** Starts polling in the background (restoring the stored bundle first). */
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
    const bundle = this.current;
    return {
      activeRevision: bundle?.revision ?? null,
      activeDigest: bundle?.digest ?? null,
      lastDownloadAt: this.lastDownloadAt?.toISOString() ?? null,
      lastActivationAt: this.lastActivationAt?.toISOString() ?? null,
      lastError: reportedError(this.lastError, bundle, this.clock()),
      counters: { ...this.counters },
      agentVersion: this.o.agentVersion,
    };
  }

  /** Milliseconds until the next poll: the jittered interval, or backoff after failures. */
  nextDelay(): number {
    if (this.failures > 0) return backoffDelay(this.failures, this.timing, this.o.random, this.retryAfterMs);
    if (this.o.waitSeconds > 0) return Math.round(this.o.random() * 1000);
    return pollDelay(this.timing, this.o.random);
  }

  private async poll(): Promise<PollResult> {
    const signal = this.loop?.controller.signal;
    this.counters.polls++;
    try {
      const { url, credential, waitSeconds, maxBytes, fetch } = this.o;
      const res = await downloadBundle({ url, credential, etag: this.etag, waitSeconds, maxBytes, timeoutMs: this.o.downloadTimeoutMs, fetch, ...(signal ? { signal } : {}) });
      if (res.status === 'not_modified') {
        this.counters.notModified++;
        return this.succeeded({ outcome: 'not_modified' });
      }
      this.counters.downloads++;
      this.lastDownloadAt = this.clock();
      const bundle = await verifyBundle(res.body, { ...this.checks(), ...this.floor() });
      const result = this.succeeded({ outcome: 'activated', bundle });
      await this.persist(bundle, res.etag);
      this.activate(bundle, res.etag);
      return result;
    } catch (err) {
      if (signal?.aborted) return { outcome: 'stopped' };
      return this.failed(err);
    }
  }

  private checks() {
    const { trust, issuer, tenantId, clusterId, maxBytes } = this.o;
    return { trust, issuer, tenantId, clusterId, maxBytes, now: this.clock() };
  }

  /** Rollback protection: nothing older than the active bundle. */
  private floor(): { minRevision?: number } {
    return this.current ? { minRevision: this.current.revision } : {};
  }

  private async persist(bundle: VerifiedBundle, etag: string | null): Promise<void> {
    try {
      await this.o.store?.save({ jws: bundle.jws, etag, revision: bundle.revision, digest: bundle.digest });
    } catch (err) {
      // The bundle is verified and newer: enforce it anyway; a restart would fall back to the older stored one.
      this.lastError = { ...agentError(err, this.clock()), code: 'persist_failed' };
    }
  }

  private activate(bundle: VerifiedBundle, etag: string | null): void {
    this.current = bundle;
    this.etag = etag;
    this.counters.activations++;
    this.lastActivationAt = this.clock();
  }

  private succeeded<T extends PollResult>(result: T): T {
    this.failures = 0;
    this.retryAfterMs = undefined;
    this.lastError = null;
    return result;
  }

  private failed(err: unknown): PollResult {
    const rejected = err instanceof BundleVerificationError;
    this.counters[rejected ? 'rejections' : 'errors']++;
    this.failures++;
    this.retryAfterMs = err instanceof ControlPlaneError ? err.retryAfterMs : undefined;
    this.lastError = agentError(err, this.clock());
    if (rejected) return { outcome: 'rejected', error: err };
    return { outcome: 'failed', error: err instanceof Error ? err : new Error(String(err)) };
  }

  /** A throwing listener must not end the loop; its error is recorded like any other. */
  private notify(result: PollResult): void {
    try {
      this.o.onPoll?.(result);
    } catch (err) {
      this.lastError = agentError(err, this.clock());
    }
  }

  private clock(): Date {
    return new Date(this.o.now());
  }
}
