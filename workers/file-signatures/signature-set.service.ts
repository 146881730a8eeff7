import { DEFAULT_CACHE_MAX_BYTES, type BundleSettings } from '../bundles/bundle.service.ts';
import { ByteLru } from '../byte-lru.ts';
import type { ChangeFeed } from '../bundles/change-feed.ts';
import { inTenant, type Db } from '../db/db.ts';
import { lockEffectiveRow, saveSignature, type EffectiveRow } from './effective.store.ts';
import { signSignatureSet } from './signature-set.sign.ts';

export interface SignedSignatureSet {
  version: number;
  digest: string;
  /** Names the content, not the signature: a re-signed set is not downloaded again by agents that hold it. */
  etag: string;
  jws: string;
  /** The JWS gzipped, computed once per signed set on first request. */
  gzipped?: Promise<ArrayBuffer>;
}

interface CacheEntry {
  set: SignedSignatureSet;
  generation: number;
  readAt: number;
  expiresAt: number;
}

/** The ETag of an effective set: its version and digest. */
export const signaturesEtag = (version: number, digest: string) => `"${version}.${digest.slice('sha256:'.length, 'sha256:'.length + 32)}"`;

/** Signs the tenant's effective set on demand (with the bundle keys) and keeps it in memory until a change or age voids it. */
export class SignatureSetService {
  /** By tenant; bounded by the bytes of the signed sets, the least recently served going first. */
  readonly #cache: ByteLru<string, CacheEntry>;
  /** Signatures made, for tests. */
  signings = 0;

  constructor(readonly settings: BundleSettings, readonly changes: ChangeFeed) {
    this.#cache = new ByteLru(settings.cacheMaxBytes ?? DEFAULT_CACHE_MAX_BYTES);
  }

  #fresh(row: { jws: string | null; kid: string | null; expiresAt: string | null }): boolean {
    const { keys, ttlSeconds, now } = this.settings;
    return !!row.jws && row.kid === keys.current.kid && !!row.expiresAt && Date.parse(row.expiresAt) - now().getTime() > (ttlSeconds * 1000) / 2;
  }

  async current(db: Db, tenantId: string): Promise<SignedSignatureSet> {
    const now = this.settings.now().getTime();
    const entry = this.#cache.get(tenantId);
    if (entry && entry.generation === this.changes.generation(tenantId) && now - entry.readAt <= this.settings.cacheMaxAgeMs && entry.expiresAt - now > (this.settings.ttlSeconds * 1000) / 2) return entry.set;
    const generation = this.changes.generation(tenantId);
    const row = await inTenant(db, tenantId, async (tx) => {
      const locked = await lockEffectiveRow(tx, tenantId);
      if (!this.#fresh(locked)) await this.#sign(locked).then(() => saveSignature(tx, locked));
      return locked;
    });
    const set = { version: row.version, digest: row.digest, etag: signaturesEtag(row.version, row.digest), jws: row.jws! };
    this.#cache.set(tenantId, { set, generation, readAt: this.settings.now().getTime(), expiresAt: Date.parse(row.expiresAt!) }, set.jws.length);
    return set;
  }

  async #sign(row: EffectiveRow): Promise<void> {
    const { keys, issuer, ttlSeconds, now } = this.settings;
    const issuedAt = Math.floor(now().getTime() / 1000);
    row.jws = await signSignatureSet(keys.current, { issuer, tenantId: row.tenantId, version: row.version, digest: row.digest, content: row.content, issuedAt, ttlSeconds });
    this.signings++;
    Object.assign(row, { kid: keys.current.kid, issuedAt: new Date(issuedAt * 1000).toISOString(), expiresAt: new Date((issuedAt + ttlSeconds) * 1000).toISOString() });
  }
}
