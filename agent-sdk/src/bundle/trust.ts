import type { JWK } from 'jose';
import { TrustAnchor } from '../trust-anchor.ts';
import { callJson } from '../json-call.ts';
import { ControlPlaneError } from './http.ts';
import type { JWKS } from './jws.ts';

/**
 * Where a refreshed trust anchor is kept (the agent's trust file). `save` must be atomic; the client adopts a new
 * anchor only after it was saved, so a bundle is never persisted that the persisted anchor cannot verify.
 *
 * @example
 * ```ts
 * const trustStore: TrustStore = { save: (jwks) => kv.put('trust', JSON.stringify(jwks)) };
 * ```
 */
export interface TrustStore {
  save(trust: JWKS): Promise<void>;
}

/**
 * What a trust refresh did, by `kid`. `kept` lists pinned keys (those of the active or stored bundle) that the
 * control plane no longer published, or published with other key material, and that were kept anyway.
 *
 * @example
 * ```ts
 * const { changed, added, removed } = await client.refreshTrust();
 * ```
 */
export interface TrustRefresh {
  changed: boolean;
  keys: string[];
  added: string[];
  removed: string[];
  kept: string[];
}

/**
 * The refresh rule. The new anchor is the published JWKS, except that a pinned key (one that signs the active or the
 * stored bundle) is never dropped or replaced: it stays, with the material it had, until a bundle signed by another
 * anchor key has been activated and stored. A JWKS that is wrong, by mistake or malice, can add keys but cannot make
 * the agent refuse the bundle it enforces now, before or after a restart.
 *
 * @example
 * ```ts
 * mergeAnchor({ keys: [b] }, { keys: [a] }, [a.kid]); // { keys: [b, a] }, a kept
 * ```
 */
export function mergeAnchor(published: JWKS, current: JWKS, pinned: readonly string[]): { trust: JWKS } & TrustRefresh {
  const pinnedKey = (kid: string | undefined) => (kid !== undefined && pinned.includes(kid) ? current.keys.find((k) => k.kid === kid) : undefined);
  const keys = published.keys.map((k) => pinnedKey(k.kid) ?? k);
  const kept = pinned.filter((kid) => {
    const mine = pinnedKey(kid);
    const theirs = published.keys.find((k) => k.kid === kid);
    return mine !== undefined && (theirs === undefined || material(theirs) !== material(mine));
  });
  for (const kid of kept) if (!keys.some((k) => k.kid === kid)) keys.push(pinnedKey(kid)!);
  const kids = (jwks: JWKS) => jwks.keys.map((k) => k.kid ?? '');
  const trust = { keys };
  const before = kids(current);
  const after = kids(trust);
  return {
    trust,
    changed: JSON.stringify(keys.map(material)) !== JSON.stringify(current.keys.map(material)),
    keys: after,
    added: after.filter((kid) => !before.includes(kid)),
    removed: before.filter((kid) => !after.includes(kid)),
    kept,
  };
}

/** The members that make a key what it is. */
const material = (k: JWK) => JSON.stringify([k.kid, k.kty, k.crv, k.x, k.y, k.alg, k.use, k.key_ops]);

/** Whether trust keys may be taken from `url`: HTTPS, or plain HTTP to a loopback address (development). */
export function secureForTrust(url: string): boolean {
  const { hostname, protocol } = new URL(url);
  return protocol === 'https:' || hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/**
 * `GET {url}/.well-known/jwks.json`, with the agent's credential. Only over HTTPS (or plain HTTP to a loopback
 * address, for development), unless `allowHttp`: a key added over plain HTTP would let anyone on the path sign bundles.
 *
 * @example
 * ```ts
 * const published = await fetchTrustAnchor({ url, credential });
 * ```
 */
export function fetchTrustAnchor(o: { url: string; credential: string; fetch?: typeof fetch; timeoutMs?: number; signal?: AbortSignal; allowHttp?: boolean }): Promise<JWKS> {
  if (!secureForTrust(o.url) && !o.allowHttp)
    return Promise.reject(new ControlPlaneError('insecure', `trust refresh: ${o.url} is not HTTPS; trust keys are only taken over TLS`));
  const { allowHttp: _, ...call } = o;
  return callJson({ ...call, path: '/.well-known/jwks.json', method: 'GET', schema: TrustAnchor, what: 'trust refresh', maxBytes: 256 * 1024 }) as Promise<JWKS>;
}
