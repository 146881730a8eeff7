import type { ChangeFeed } from '../bundles/change-feed.ts';
import type { Db } from '../db/db.ts';
import { sha256Hex } from '../ids.ts';
import { readAgentState, type MarkerDelta, type StoredAgentState } from './change-markers.ts';
import type { SharedCache } from './shared-cache.ts';

/** An agent, known only from its cluster credential. */
export interface AgentPrincipal {
  tenantId: string;
  clusterId: string;
  credentialId: string;
}

/** What a 304 needs of the cluster's signed bundle, as stored. */
export interface BundleMeta {
  revision: number;
  digest: string;
  etag: string;
  kid: string;
  /** Signature expiry (ms since the epoch). */
  expiresAt: number;
}

/** A verified credential with its tenant's change marker at the time it was read. Shared: holds no secret. */
export interface AgentEntry {
  /** SHA-256 of the credential: the shared cache's key. */
  hash: string;
  agent: AgentPrincipal;
  credentialExpiresAt: number | null;
  marker: number;
  /** The cluster's bundle when it was ready (signed, not stale); null: the poll asks the bundle service. */
  bundle: BundleMeta | null;
  filledAt: number;
}

/** Every tenant's change marker as of `checkedAt` (tenants without a row: 0), and where the next delta starts. */
interface Markers {
  checkedAt: number;
  watermark: string;
  markers: Record<string, number>;
}

export interface AgentStateSettings {
  shared: SharedCache;
  /**
   * The staleness bound: entries are trusted while the markers they are checked against are at most this old. A
   * change or revocation made through another instance reaches this one within it; through this one, at once.
   */
  maxAgeMs: number;
  /** An entry is read again from the database at least this often. */
  refillAfterMs: number;
  /**
   * Last use of credentials answered from the caches is written in one statement per instance at most this often
   * (with a statement the instance sends anyway when there is one); 60 s by default.
   */
  touchEveryMs?: number;
  now: () => Date;
  /** Most credentials remembered per instance. */
  maxLocalEntries?: number;
}

const MARKERS_KEY = 'palisade:markers';
const entryKey = (hash: string) => `palisade:agent:${hash}`;
/** The markers document outlives its freshness: a stale copy is still the base the next delta builds on. */
const MARKERS_TTL_SECONDS = 3600;

function toEntry(hash: string, s: StoredAgentState, now: number): AgentEntry {
  const b = s.bundle;
  const ready = b && !b.stale && b.signed && b.digest && b.kid && b.issuedAt && b.expiresAt;
  return {
    hash,
    agent: { tenantId: s.tenantId, clusterId: s.clusterId, credentialId: s.credentialId },
    credentialExpiresAt: s.credentialExpiresAt ? Date.parse(s.credentialExpiresAt) : null,
    marker: Number(s.marker),
    bundle: ready ? { revision: b.revision, digest: b.digest!, kid: b.kid!, etag: `"${b.revision}.${Date.parse(b.issuedAt!) / 1000}"`, expiresAt: Date.parse(b.expiresAt!) } : null,
    filledAt: now,
  };
}

/**
 * Verified agent credentials and what an unchanged poll needs, at three levels: this instance's memory (keyed by the
 * presented credential, so a hit hashes nothing), the shared cache of the place (keyed by its SHA-256), and the
 * database, asked in one statement. The database's change markers are the source of truth: an entry is used only while
 * its tenant's marker equals the one read with it, and the markers are re-read (one statement for all tenants, shared
 * by the instances of the place) when older than `maxAgeMs`.
 */
export class AgentStateCache {
  readonly #local = new Map<string, AgentEntry>();
  #markers: Markers | undefined;
  #refreshing: Promise<Markers | undefined> | undefined;
  /** Markers learned from single reads since the last full picture (only ever higher). */
  readonly #seen = new Map<string, number>();
  /** Tenants changed through this instance, by local sequence: their entries wait for a database read after it. */
  readonly #dirty = new Map<string, number>();
  #seq = 0;
  /** Credentials (hashes) answered from the caches since their last use was last written. */
  #touched = new Set<string>();
  #touchedSince: number;

  constructor(readonly settings: AgentStateSettings, changes: ChangeFeed) {
    changes.subscribe((tenantId) => this.#dirty.set(tenantId, ++this.#seq));
    this.#touchedSince = settings.now().getTime();
  }

  /** The entry for a presented credential; undefined when it is unknown, revoked or expired. */
  resolve(db: Db, token: string): AgentEntry | undefined | Promise<AgentEntry | undefined> {
    const now = this.settings.now().getTime();
    const local = this.#local.get(token);
    const markers = this.#fresh(this.#markers, now);
    if (local && markers && this.#valid(local, markers, now)) {
      this.#touched.add(local.hash);
      return now - this.#touchedSince < (this.settings.touchEveryMs ?? 60_000) ? local : this.#writeTouches(db, now).then(() => local);
    }
    return this.#slow(db, token, local, markers, now);
  }

  /** Hashes whose last use is due, taken (the statement that carries them writes them). */
  #takeTouches(now: number): string[] | undefined {
    if (this.#touched.size === 0) return undefined;
    const hashes = [...this.#touched];
    this.#touched = new Set();
    this.#touchedSince = now;
    return hashes;
  }

  /** A statement of its own for last use, when none was sent for a while; a failure loses only these timestamps. */
  async #writeTouches(db: Db, now: number): Promise<void> {
    const touch = this.#takeTouches(now);
    if (touch) await readAgentState(db, { now: new Date(now), touch }).catch(() => undefined);
  }

  /**
   * The entry when this instance can vouch for it from memory alone (fresh markers, nothing due to be written);
   * undefined means "ask `resolve`", never "unauthorized".
   */
  peek(token: string): AgentEntry | undefined {
    const now = this.settings.now().getTime();
    const local = this.#local.get(token);
    const markers = this.#fresh(this.#markers, now);
    if (!local || !markers || !this.#valid(local, markers, now) || now - this.#touchedSince >= (this.settings.touchEveryMs ?? 60_000)) return undefined;
    this.#touched.add(local.hash);
    return local;
  }

  /** Drops what this instance remembers of the cluster's credentials; its tenant's entries wait for the database. */
  forgetCluster(tenantId: string, clusterId: string): void {
    this.#dirty.set(tenantId, ++this.#seq);
    for (const [token, entry] of this.#local) if (entry.agent.clusterId === clusterId) this.#local.delete(token);
  }

  /** Records the bundle a poll found through the bundle service, so the next poll of the credential needs no query. */
  async recordBundle(token: string, entry: AgentEntry, bundle: BundleMeta): Promise<void> {
    if (entry.bundle?.etag === bundle.etag) return;
    const updated = { ...entry, bundle };
    this.#remember(token, updated);
    await this.settings.shared.put(entryKey(entry.hash), updated, this.settings.refillAfterMs / 1000);
  }

  async #slow(db: Db, token: string, local: AgentEntry | undefined, fresh: Markers | undefined, now: number): Promise<AgentEntry | undefined> {
    let markers = fresh ?? (await this.#sharedMarkers(now));
    const hash = local?.hash ?? (await sha256Hex(token));
    let entry = local && this.#usable(local, now) ? local : undefined;
    if (!entry || !markers || !this.#valid(entry, markers, now)) {
      const shared = await this.settings.shared.get<AgentEntry>(entryKey(hash));
      if (shared && this.#usable(shared, now) && (!entry || shared.filledAt > entry.filledAt)) entry = shared;
    }
    if (entry && !markers) {
      // Markers too old: one statement for every tenant (shared with concurrent polls); an entry that holds needs no more.
      markers = await this.#refreshMarkers(db, now);
    }
    if (entry && markers && this.#valid(entry, markers, now)) {
      this.#remember(token, entry);
      this.#touched.add(entry.hash);
      return entry;
    }
    return this.#fill(db, token, hash, markers === undefined, now);
  }

  /** Reads the credential (and, when `withMarkers`, every marker changed since ours) in one statement. */
  async #fill(db: Db, token: string, hash: string, withMarkers: boolean, now: number): Promise<AgentEntry | undefined> {
    const seq = this.#seq;
    const base = this.#markers;
    const { state, delta } = await readAgentState(db, { keyHash: hash, now: new Date(now), since: withMarkers ? (base?.watermark ?? '0') : undefined, touch: this.#takeTouches(now) });
    if (delta) await this.#adopt(base, delta, now, seq);
    if (!state) {
      this.#local.delete(token);
      await this.settings.shared.delete(entryKey(hash));
      return undefined;
    }
    const entry = toEntry(hash, state, now);
    this.#learn(entry.agent.tenantId, entry.marker, seq);
    this.#remember(token, entry);
    await this.settings.shared.put(entryKey(hash), entry, this.settings.refillAfterMs / 1000);
    return entry;
  }

  #refreshMarkers(db: Db, now: number): Promise<Markers | undefined> {
    this.#refreshing ??= (async () => {
      try {
        const seq = this.#seq;
        const base = this.#markers;
        const { delta } = await readAgentState(db, { now: new Date(now), since: base?.watermark ?? '0', touch: this.#takeTouches(now) });
        return delta ? this.#adopt(base, delta, now, seq) : undefined;
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  /** A delta read at `now` over `base` (undefined: the delta is every marker) becomes the picture here and in the place. */
  async #adopt(base: Markers | undefined, delta: MarkerDelta, now: number, seq: number): Promise<Markers> {
    const markers: Markers = { checkedAt: now, watermark: delta.watermark, markers: { ...base?.markers } };
    for (const [tenantId, marker] of delta.markers) markers.markers[tenantId] = Number(marker);
    if (!this.#markers || this.#markers.checkedAt <= now) this.#markers = markers;
    // Local changes committed before the read are in it.
    for (const [tenantId, at] of this.#dirty) if (at <= seq) this.#dirty.delete(tenantId);
    await this.settings.shared.put(MARKERS_KEY, markers, MARKERS_TTL_SECONDS);
    return markers;
  }

  /** The place's markers when fresh; a newer copy than ours (fresh or not) becomes ours, the base of the next delta. */
  async #sharedMarkers(now: number): Promise<Markers | undefined> {
    if (this.#refreshing) return this.#refreshing;
    const shared = await this.settings.shared.get<Markers>(MARKERS_KEY);
    if (shared && (!this.#markers || shared.checkedAt > this.#markers.checkedAt)) this.#markers = shared;
    return this.#fresh(this.#markers, now);
  }

  #fresh(markers: Markers | undefined, now: number): Markers | undefined {
    return markers && now - markers.checkedAt <= this.settings.maxAgeMs ? markers : undefined;
  }

  #learn(tenantId: string, marker: number, seq: number): void {
    if ((this.#seen.get(tenantId) ?? -1) < marker) this.#seen.set(tenantId, marker);
    const at = this.#dirty.get(tenantId);
    if (at !== undefined && at <= seq) this.#dirty.delete(tenantId);
  }

  /** What can be told without the markers: not expired, not too old, not changed through this instance. */
  #usable(entry: AgentEntry, now: number): boolean {
    if (entry.credentialExpiresAt !== null && entry.credentialExpiresAt <= now) return false;
    return now - entry.filledAt <= this.settings.refillAfterMs && !this.#dirty.has(entry.agent.tenantId);
  }

  #valid(entry: AgentEntry, markers: Markers, now: number): boolean {
    const tenantId = entry.agent.tenantId;
    return this.#usable(entry, now) && Math.max(markers.markers[tenantId] ?? 0, this.#seen.get(tenantId) ?? 0) === entry.marker;
  }

  #remember(token: string, entry: AgentEntry): void {
    this.#local.delete(token);
    this.#local.set(token, entry);
    if (this.#local.size > (this.settings.maxLocalEntries ?? 100_000)) this.#local.delete(this.#local.keys().next().value!);
  }
}
