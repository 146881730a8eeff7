import type { Principal } from './principal.ts';

interface Entry {
  principal: Principal;
  /** When the key expires (ms), or null. */
  expiresAt: number | null;
  readAt: number;
}

/**
 * API-key principals by the SHA-256 of the presented secret, for at most `maxAgeMs` each: a request with a key read
 * recently costs no authentication query, so its one transaction is the route's own. What that allows, and why it is
 * bounded: a key revoked, deleted or re-roled, or a role changed, through this instance is forgotten at once (the
 * app forgets the tenant after every successful write under /v1/api-keys and /v1/roles); through another instance
 * (Workers runs many isolates) it still works here for at most `maxAgeMs`. An expiry is honoured to the millisecond.
 * The same bound as the agents' CredentialCache; `lastUsedAt` is written when an entry is (re)read, at most once a
 * minute as before.
 */
export class PrincipalCache {
  readonly #byHash = new Map<string, Entry>();
  constructor(readonly maxAgeMs: number, readonly maxEntries = 10_000) {}

  get(hash: string, now: number): Principal | undefined {
    const hit = this.#byHash.get(hash);
    if (!hit) return undefined;
    if (now - hit.readAt > this.maxAgeMs || now < hit.readAt || (hit.expiresAt !== null && hit.expiresAt <= now)) {
      this.#byHash.delete(hash);
      return undefined;
    }
    return hit.principal;
  }

  set(hash: string, principal: Principal, expiresAt: number | null, now: number): void {
    if (this.maxAgeMs <= 0) return;
    this.#byHash.delete(hash);
    // Oldest first in insertion order: past the cap, the entry read longest ago goes.
    if (this.#byHash.size >= this.maxEntries) this.#byHash.delete(this.#byHash.keys().next().value!);
    this.#byHash.set(hash, { principal, expiresAt, readAt: now });
  }

  forgetTenant(tenantId: string): void {
    for (const [hash, entry] of this.#byHash) if (entry.principal.tenantId === tenantId) this.#byHash.delete(hash);
  }
}
