import type { BundleFileSignatures } from '../../../schema/file-signature-sets.ts';
import { BundleVerificationError } from '../bundle/errors.ts';
import { ControlPlaneError } from '../bundle/http.ts';
import type { JWKS } from '../bundle/jws.ts';
import { agentError, type AgentError } from '../bundle/status.ts';
import type { VerifiedBundle } from '../bundle/verify.ts';
import type { SignatureIndex } from '../scanner/signature-index.ts';
import type { FileSignature } from '../../../schema/file-signatures.ts';
import { indexOfSet, scannerSignatures } from './scanner-index.ts';
import { downloadSignatureSet } from './download.ts';
import type { SignatureSetStore } from './persisted.ts';
import { verifySignatureSet, type VerifiedSignatureSet } from './verify.ts';

/**
 * Settings of a `SignatureSetClient`. `fetch` and `now` can be swapped for tests or other runtimes.
 *
 * @example
 * ```ts
 * const options: SignatureSetClientOptions = { ...config, credential, trust: () => bundles.trustAnchor, store: new FileSignatureSetStore(stateDir) };
 * ```
 */
export interface SignatureSetClientOptions {
  /** Control plane base URL. */
  url: string;
  /** The agent credential, as for bundles. */
  credential: string;
  /** The trust anchor; pass `() => bundleClient.trustAnchor` so the bundle client's refreshes apply here too. */
  trust: JWKS | (() => JWKS);
  issuer: string;
  tenantId: string;
  /** Keeps the last good set across restarts; none by default. */
  store?: SignatureSetStore;
  /** Largest signed set accepted (decompressed); default the control plane's cap (`MAX_SIGNED_SIGNATURES_BYTES`). */
  maxBytes?: number;
  /** Deadline of one download; default 60 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Clock, milliseconds since the epoch. */
  now?: () => number;
}

/**
 * What one `sync` did. `current`: the active set is the one named, no request made. `not_named`: the bundle names no
 * set (File Threat Protection is off), the active set is kept.
 *
 * @example
 * ```ts
 * const result = await signatures.syncWith(bundles.active);
 * if (result.outcome === 'rejected') log.warn(`signature set refused: ${result.error.code}`);
 * ```
 */
export type SignatureSyncResult =
  | { outcome: 'current' | 'not_named' }
  | { outcome: 'activated'; set: VerifiedSignatureSet }
  | { outcome: 'rejected'; error: BundleVerificationError }
  | { outcome: 'failed'; error: Error };

/**
 * Called with each set activated (restored from disk or downloaded) and the scanner index built from it.
 *
 * @example
 * ```ts
 * const listener: SignatureSetListener = (index, set) => scanner.use(index, set.document.signatures);
 * ```
 */
export type SignatureSetListener = (index: SignatureIndex, set: VerifiedSignatureSet) => void;

/**
 * One set as the node scanner takes it: `version` changes whenever the signatures do.
 *
 * @example
 * ```ts
 * const set: ScanSignatureSet = { version: '7.3f2a9c0d1e2b3a4c', signatures };
 * ```
 */
export interface ScanSignatureSet {
  version: string;
  signatures: readonly FileSignature[];
}

/**
 * `current()` and `subscribe()` over `ScanSignatureSet`s: the shape of `file-threat/signatures.ts`'s `SignatureSource`.
 *
 * @example
 * ```ts
 * const source: ScanSignatureSource = signatureSets.scanSource();
 * ```
 */
export interface ScanSignatureSource {
  current(): ScanSignatureSet | undefined;
  subscribe(fn: (set: ScanSignatureSet) => void): () => void;
}

/**
 * For the agent's status: the set in use, the one the bundle names, the last error (cleared by the next success).
 *
 * @example
 * ```ts
 * const { activeVersion, namedVersion, lastError } = signatures.status();
 * ```
 */
export interface SignatureSetStatus {
  activeVersion: number | null;
  activeDigest: string | null;
  namedVersion: number | null;
  namedDigest: string | null;
  lastError: AgentError | null;
  counters: { syncs: number; downloads: number; notModified: number; activations: number; rejections: number; errors: number };
}

/**
 * Keeps the tenant's file signature set in step with the verified bundle: fetches the set the bundle names, verifies
 * it with the bundle trust (signature, issuer, tenant, digest against the signed claims and against the bundle), builds
 * the scanner's `SignatureIndex`, keeps it on disk, and only then makes it current. A set that fails any check is
 * refused and the previous one stays current; the error is kept for `status()`. With the control plane down,
 * `restore()` brings back the last good set from disk (verified again; an expired signature is accepted there only).
 *
 * Call `syncWith(bundle)` after every bundle poll: with the set named already current it costs nothing, and a failed
 * fetch is retried at the next poll.
 *
 * @example
 * ```ts
 * const signatures = new SignatureSetClient({ url, credential, trust: () => bundles.trustAnchor, issuer, tenantId,
 *   store: new FileSignatureSetStore(stateDir) });
 * await signatures.restore();                       // last good set, even offline
 * signatures.subscribe((index) => nodeScanner.useSignatures(index));
 * const bundles = new BundleClient({ ...settings, onPoll: () => void signatures.syncWith(bundles.active) });
 * const index = signatures.current();               // SignatureIndex | undefined
 * ```
 */
export class SignatureSetClient {
  readonly #o: SignatureSetClientOptions & { fetch: typeof fetch; now: () => number };
  readonly #listeners = new Set<SignatureSetListener>();
  #active: VerifiedSignatureSet | null = null;
  #index: SignatureIndex | undefined;
  #etag: string | null = null;
  #named: Pick<BundleFileSignatures, 'version' | 'digest'> | null = null;
  #lastError: AgentError | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #counters = { syncs: 0, downloads: 0, notModified: 0, activations: 0, rejections: 0, errors: 0 };

  constructor(options: SignatureSetClientOptions) {
    this.#o = { fetch: (input, init) => globalThis.fetch(input, init), now: Date.now, ...options };
  }

  /** The scanner index of the current set; undefined until a set was restored or downloaded. EICAR is always in it. */
  current(): SignatureIndex | undefined {
    return this.#index;
  }

  /** The current set as verified (version, digest, signatures), or null. */
  get active(): VerifiedSignatureSet | null {
    return this.#active;
  }

  /**
   * Calls `listener` with every set made current from now on (and at once with the current one, if any). Answers the
   * function that unsubscribes. A listener that throws is reported in `status()` and does not stop the others.
   */
  subscribe(listener: SignatureSetListener): () => void {
    const unsubscribe = this.#subscribeOnly(listener);
    if (this.#index && this.#active) this.#call(listener, this.#index, this.#active);
    return unsubscribe;
  }

  /** Registers without the immediate call (`scanSource` consumers read `current()` themselves). */
  #subscribeOnly(listener: SignatureSetListener): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /**
   * The current set as the node's File Threat Protection takes it (structurally its `SignatureSource`): `version` is
   * the set's version and digest, `signatures` exclude EICAR (the scanner adds it). Refreshed by `restore`/`sync`.
   *
   * @example
   * ```ts
   * const ftp = new FileThreatService({ ...deps, signatures: signatureSets.scanSource() });
   * ```
   */
  scanSource(): ScanSignatureSource {
    const of = (set: VerifiedSignatureSet) => ({ version: `${set.version}.${set.digest.slice('sha256:'.length, 'sha256:'.length + 16)}`, signatures: scannerSignatures(set.document.signatures) });
    let cached: { from: VerifiedSignatureSet; set: ScanSignatureSet } | undefined;
    const current = () => {
      if (!this.#active) return undefined;
      if (cached?.from !== this.#active) cached = { from: this.#active, set: of(this.#active) };
      return cached.set;
    };
    return { current, subscribe: (fn) => this.#subscribeOnly(() => fn(current()!)) };
  }

  /** Loads the stored set, verifies it again (an expired signature is fine here) and makes it current. */
  restore(): Promise<VerifiedSignatureSet | null> {
    return this.#serial(async () => {
      try {
        const saved = await this.#o.store?.load();
        if (!saved) return null;
        const set = await verifySignatureSet(saved.jws, { ...this.#checks(), allowExpired: true });
        this.#activate(set, indexOfSet(set.document.signatures), saved.digest === set.digest ? saved.etag : null);
        return set;
      } catch (err) {
        this.#lastError = { ...agentError(err, this.#clock()), message: `stored signature set not used: ${(err as Error).message}` };
        return null;
      }
    });
  }

  /** `sync` with what the bundle names (`bundle.content.fileSignatures`). */
  syncWith(bundle: VerifiedBundle | null): Promise<SignatureSyncResult> {
    return this.sync(bundle?.content.fileSignatures);
  }

  /** Makes the named set current: downloads, verifies, persists, builds its index, notifies subscribers. */
  sync(named: Pick<BundleFileSignatures, 'version' | 'digest'> | null | undefined, signal?: AbortSignal): Promise<SignatureSyncResult> {
    return this.#serial(async () => {
      this.#counters.syncs++;
      if (!named) return { outcome: 'not_named' };
      this.#named = { version: named.version, digest: named.digest };
      if (this.#active?.digest === named.digest) {
        this.#lastError = null;
        return { outcome: 'current' };
      }
      try {
        const { url, credential, fetch, maxBytes, timeoutMs } = this.#o;
        const res = await downloadSignatureSet({ url, credential, etag: this.#etag, fetch, ...(maxBytes ? { maxBytes } : {}), ...(timeoutMs ? { timeoutMs } : {}), ...(signal ? { signal } : {}) });
        if (res.status === 'not_modified') {
          // The control plane still serves the set we hold, and the bundle names another: one of them is behind.
          this.#counters.notModified++;
          throw new BundleVerificationError('digest_mismatch', `the bundle names signature set version ${named.version}, the control plane still serves version ${this.#active?.version} (held here)`);
        }
        this.#counters.downloads++;
        const set = await verifySignatureSet(res.body, { ...this.#checks(), expected: named });
        const index = indexOfSet(set.document.signatures);
        try {
          await this.#o.store?.save({ jws: set.jws, etag: res.etag, version: set.version, digest: set.digest });
        } catch (err) {
          // Verified: scan with it anyway; only a restart would fall back to the older stored set.
          this.#activate(set, index, res.etag);
          this.#lastError = { ...agentError(err, this.#clock()), code: 'persist_failed' };
          return { outcome: 'activated', set };
        }
        this.#activate(set, index, res.etag);
        this.#lastError = null;
        return { outcome: 'activated', set };
      } catch (err) {
        this.#lastError = agentError(err, this.#clock());
        if (err instanceof BundleVerificationError) {
          this.#counters.rejections++;
          return { outcome: 'rejected', error: err };
        }
        this.#counters.errors++;
        return { outcome: 'failed', error: err instanceof Error ? err : new ControlPlaneError('network', String(err)) };
      }
    });
  }

  /** What is current, what the bundle names, the last error and counters; e.g. for the agent's status report. */
  status(): SignatureSetStatus {
    return {
      activeVersion: this.#active?.version ?? null,
      activeDigest: this.#active?.digest ?? null,
      namedVersion: this.#named?.version ?? null,
      namedDigest: this.#named?.digest ?? null,
      lastError: this.#lastError,
      counters: { ...this.#counters },
    };
  }

  #checks() {
    const { trust, issuer, tenantId, maxBytes } = this.#o;
    return { trust: typeof trust === 'function' ? trust() : trust, issuer, tenantId, now: this.#clock(), ...(maxBytes ? { maxBytes } : {}) };
  }

  #activate(set: VerifiedSignatureSet, index: SignatureIndex, etag: string | null): void {
    this.#active = set;
    this.#index = index;
    this.#etag = etag;
    this.#counters.activations++;
    for (const listener of this.#listeners) this.#call(listener, index, set);
  }

  #call(listener: SignatureSetListener, index: SignatureIndex, set: VerifiedSignatureSet): void {
    try {
      listener(index, set);
    } catch (err) {
      this.#lastError = { ...agentError(err, this.#clock()), message: `signature set listener failed: ${(err as Error).message}` };
    }
  }

  /** One restore or sync at a time: a sync never races a restore to make an older set current. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #clock(): Date {
    return new Date(this.#o.now());
  }
}
