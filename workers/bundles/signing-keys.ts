import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { SigningKey } from './bundle.sign.ts';

/** A new Ed25519 signing key with its RFC 7638 thumbprint as `kid`. */
export async function generateSigningKey(): Promise<{ key: SigningKey; privateJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'EdDSA', use: 'sig' };
  return { key: { kid, alg: 'EdDSA', privateKey, publicJwk: { ...publicJwk, kid, alg: 'EdDSA', use: 'sig' } }, privateJwk };
}

/** Loads a private JWK (a Workers secret, or the file kept under the Node data directory). */
export async function importSigningKey(privateJwk: JWK): Promise<SigningKey> {
  const alg = (privateJwk.alg as SigningKey['alg'] | undefined) ?? (privateJwk.crv === 'Ed25519' ? 'EdDSA' : 'ES256');
  const privateKey = (await importJWK(privateJwk, alg)) as CryptoKey;
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicOnly } = privateJwk;
  const publicJwk: JWK = { ...publicOnly, alg, use: 'sig' };
  const kid = privateJwk.kid ?? (await calculateJwkThumbprint(publicJwk));
  return { kid, alg, privateKey, publicJwk: { ...publicJwk, kid } };
}

/**
 * The signing keys of the control plane. A rotation takes three steps, each a restart (or redeploy) with a new ring:
 *
 *  1. publish: `{ current: A, next: [B] }`. B is in the JWKS but signs nothing yet; agents pick it up when they
 *     refresh their trust anchor (hourly by default).
 *  2. switch:  `{ current: B, previous: [A] }`. New and re-signed bundles carry B; bundles signed with A keep
 *     verifying. An agent that has not refreshed yet refreshes on the first B-signed bundle (`unknown_key`).
 *  3. retire:  `{ current: B }`, once every bundle signed with A has been replaced or has expired (the bundle TTL).
 */
export interface KeyRing {
  /** Signs new bundles. */
  current: SigningKey;
  /** Published for the overlap after a rotation, so bundles signed before it keep verifying. */
  previous: SigningKey[];
  /** Published ahead of a rotation, so agents trust a key before anything is signed with it. Never signs. */
  next?: SigningKey[];
}

/** The public keys of a ring, each `kid` once: current, then next, then previous. */
export function jwksOf(ring: KeyRing): { keys: JWK[] } {
  const keys = [ring.current, ...(ring.next ?? []), ...ring.previous];
  return { keys: keys.filter((k, i) => keys.findIndex((o) => o.kid === k.kid) === i).map((k) => k.publicJwk) };
}
