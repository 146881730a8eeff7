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

export interface KeyRing {
  /** Signs new bundles. */
  current: SigningKey;
  /** Published for the overlap after a rotation, so bundles signed before it keep verifying. */
  previous: SigningKey[];
}

export const jwksOf = (ring: KeyRing): { keys: JWK[] } => ({ keys: [ring.current, ...ring.previous].map((k) => k.publicJwk) });
