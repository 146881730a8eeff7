import { sha256Digest } from '../../schema/canonical-json.ts';
import { ByteLru } from '../byte-lru.ts';
import { inTenant, type Db, type Tx } from '../db/db.ts';
import { FragmentMemo, renderBundle } from './bundle.compile.ts';
import { gzipText, signBundle } from './bundle.sign.ts';
import { loadBundleSources, lockBundleRow, lockTenantSources, readBundleBytes, readBundleRow, saveBundleRow, type BundleRow } from './bundle.store.ts';
import type { ChangeFeed } from './change-feed.ts';
import { SourceRowCache } from './source-cache.ts';
import type { KeyRing } from './signing-keys.ts';

export interface BundleSettings {
  issuer: string;
  keys: KeyRing;
  /** Lifetime of a signature; re-signed when less than half is left. */
  ttlSeconds: number;
  /** How long a cached bundle is served without asking the database, unless a local change drops it first. */
  cacheMaxAgeMs: number;
  /** The bytes of signed documents an instance keeps in memory per cache (bundles, signature sets); 32 MiB by default. */
  cacheMaxBytes?: number;
  now: () => Date;
}

/** Signed documents kept in memory, per cache: a quarter of a Workers isolate's 128 MB. */
export const DEFAULT_CACHE_MAX_BYTES = 32 << 20;

export interface SignedBundle {
  clusterId: string;
  revision: number;
  digest: string;
  etag: string;
  jws: string;
  content: string;
  kid: string;
  /** Signature expiry (ms since the epoch). */
  expiresAt: number;
  /** The JWS gzipped: stored with it when signed (older rows: computed once on first request). */
  gzipped?: Promise<Uint8Array>;
}

interface CacheEntry {
  bundle: SignedBundle;
  generation: number;
  readAt: number;
  expiresAt: number;
}

type Signed = { stale: boolean; kid: string | null; expiresAt: string | null } & ({ jws: string | null } | { signed: boolean });
const ready = <R extends Signed>(row: R | undefined, s: BundleSettings): row is R & { digest: string } =>
  !!row && !row.stale && ('signed' in row ? row.signed : !!row.jws) && row.kid === s.keys.current.kid && !!row.expiresAt && Date.parse(row.expiresAt) - s.now().getTime() > (s.ttlSeconds * 1000) / 2;

const etagOf = (row: { revision: number; issuedAt: string | null }) => `"${row.revision}.${Date.parse(row.issuedAt!) / 1000}"`;

const toSigned = (row: BundleRow): SignedBundle => ({
  clusterId: row.clusterId,
  revision: row.revision,
  digest: row.digest!,
  etag: etagOf(row),
  jws: row.jws!,
  content: row.content!,
  kid: row.kid!,
  expiresAt: Date.parse(row.expiresAt!),
  gzipped: row.jwsGzip ? Promise.resolve(row.jwsGzip) : undefined,
});

/** Clusters whose last rendered digest is remembered (a few hundred bytes each). */
const MAX_RENDERED = 10_000;

/** Compiles, signs and caches bundles; compiles only when something they depend on changed. */
export class BundleService {
  /** By cluster; bounded by the bytes of the bundles (content and JWS), the least recently served going first. */
  readonly #cache: ByteLru<string, CacheEntry>;
  /** Compilations performed, for tests and benchmarks. */
  compilations = 0;
  /**
   * What the last refreshes read and rendered, so the next one reads only changed rows and renders only their
   * elements (bounded; checked against the database at every refresh; see source-cache.ts).
   */
  readonly sources = new SourceRowCache();
  readonly fragments = new FragmentMemo();
  /**
   * Per cluster, the digest of the content last rendered here and the name of its inputs (see `loadBundleSources`):
   * the same inputs again give the same content, so it is not rendered again just to learn its digest. Bounded.
   */
  readonly #rendered = new Map<string, { tenantId: string; inputs: string; digest: string }>();
  /** Refreshes that found their inputs unchanged since this instance rendered them (tests and benchmarks). */
  unchangedInputs = 0;

  constructor(readonly settings: BundleSettings, readonly changes: ChangeFeed) {
    this.#cache = new ByteLru(settings.cacheMaxBytes ?? DEFAULT_CACHE_MAX_BYTES);
  }

  /** Bundles this instance holds in memory, and their bytes (tests and benchmarks). */
  get held(): { bundles: number; bytes: number } {
    return { bundles: this.#cache.size, bytes: this.#cache.bytes };
  }

  /** Whether a signed bundle may still be served: signed with the current key, and more than half its lifetime left. */
  servable(bundle: { kid: string; expiresAt: number }): boolean {
    return bundle.kid === this.settings.keys.current.kid && bundle.expiresAt - this.settings.now().getTime() > (this.settings.ttlSeconds * 1000) / 2;
  }

  /** The cached bundle if no change and no age has voided it: answering from here costs no query. */
  cached(tenantId: string, clusterId: string): SignedBundle | undefined {
    const entry = this.#cache.get(clusterId);
    const now = this.settings.now().getTime();
    if (!entry || entry.generation !== this.changes.generation(tenantId) || now - entry.readAt > this.settings.cacheMaxAgeMs || entry.expiresAt - now < (this.settings.ttlSeconds * 1000) / 2) return undefined;
    return entry.bundle;
  }

  /**
   * The current signed bundle, compiled and signed first when needed. `expectEtag`: the ETag the database was seen to
   * hold (by the agent's poll state); a cached bundle with another one is not used.
   */
  async current(db: Db, tenantId: string, clusterId: string, expectEtag?: string): Promise<SignedBundle | undefined> {
    const hit = this.cached(tenantId, clusterId);
    if (hit && (expectEtag === undefined || hit.etag === expectEtag)) return hit;
    const generation = this.changes.generation(tenantId);
    const row = await inTenant(db, tenantId, async (tx) => {
      const existing = await readBundleRow(tx, tenantId, clusterId);
      return ready(existing, this.settings) ? existing : this.#refresh(tx, tenantId, clusterId);
    });
    if (!row) return undefined;
    const bundle = toSigned(row);
    this.#cache.set(clusterId, { bundle, generation, readAt: this.settings.now().getTime(), expiresAt: Date.parse(row.expiresAt!) }, bundle.content.length + bundle.jws.length);
    return bundle;
  }

  #remember(clusterId: string, entry: { tenantId: string; inputs: string; digest: string }): void {
    this.#rendered.delete(clusterId);
    this.#rendered.set(clusterId, entry);
    if (this.#rendered.size > MAX_RENDERED) this.#rendered.delete(this.#rendered.keys().next().value!);
  }

  /** Under the row lock: recompile if stale, raise the revision only if the content changed, re-sign if needed. */
  async #refresh(tx: Tx, tenantId: string, clusterId: string): Promise<BundleRow | undefined> {
    // Lock first, read sources second: a concurrent change then waits for us and marks the row stale after.
    const locked = await lockBundleRow(tx, tenantId, clusterId);
    if (!locked) return undefined;
    const { hasContent, signed: _signed, ...meta } = locked;
    // The stored bytes are read only when they are kept (a new content replaces them unread).
    const stored = async (): Promise<BundleRow> => ({ ...meta, ...(await readBundleBytes(tx, tenantId, clusterId)) });
    if (ready(locked, this.settings)) return stored();
    let row: BundleRow | undefined;
    if (locked.stale || !hasContent) {
      // After the row lock (writers that lock a cluster row first then mark would otherwise deadlock with us).
      await lockTenantSources(tx, tenantId);
      const sources = await loadBundleSources(tx, tenantId, clusterId, this.sources);
      if (!sources) return undefined;
      this.compilations++;
      const known = this.#rendered.get(clusterId);
      let content: string | undefined;
      let digest: string;
      if (sources.inputs !== undefined && known?.tenantId === tenantId && known.inputs === sources.inputs) {
        digest = known.digest;
        this.unchangedInputs++;
      } else {
        // canonicalJson(compileBundle(sources)), with unchanged rows' elements as rendered before.
        content = renderBundle(sources, this.fragments);
        digest = await sha256Digest(content);
        if (sources.inputs !== undefined) this.#remember(clusterId, { tenantId, inputs: sources.inputs, digest });
      }
      if (digest !== locked.digest) {
        content ??= renderBundle(sources, this.fragments);
        row = { ...meta, revision: meta.revision + 1, digest, content, jws: null, jwsGzip: null };
      }
      // Same content, signature still good: keep the bytes and the ETag, so agents are not made to download again.
      else if (ready({ ...locked, stale: false }, this.settings)) {
        await saveBundleRow(tx, { tenantId, clusterId, stale: false });
        // The bytes of this very row (same revision, digest and signature time) when this instance holds them.
        const held = this.#cache.get(clusterId)?.bundle;
        if (held && held.digest === digest && held.revision === meta.revision && held.kid === meta.kid && held.expiresAt === Date.parse(meta.expiresAt!) && held.etag === etagOf(meta)) {
          return { ...meta, stale: false, content: held.content, jws: held.jws, jwsGzip: (await held.gzipped?.catch(() => undefined)) ?? null };
        }
        return { ...(await stored()), stale: false };
      }
    }
    row ??= await stored();
    const issuedAt = Math.floor(this.settings.now().getTime() / 1000);
    const { keys, issuer, ttlSeconds } = this.settings;
    row.jws = await signBundle(keys.current, { issuer, tenantId, clusterId, revision: row.revision, digest: row.digest!, content: row.content!, issuedAt, ttlSeconds });
    // Compressed once here, so every download (on any instance) sends stored bytes.
    row.jwsGzip = await gzipText(row.jws);
    Object.assign(row, { kid: keys.current.kid, issuedAt: new Date(issuedAt * 1000).toISOString(), expiresAt: new Date((issuedAt + ttlSeconds) * 1000).toISOString(), stale: false });
    await saveBundleRow(tx, row);
    return row;
  }
}
