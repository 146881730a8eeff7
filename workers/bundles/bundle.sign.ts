import { SignJWT, type CryptoKey, type JWK } from 'jose';
import { BUNDLE_JWS_TYPE, type BundleContentV1 } from '../../schema/bundle.ts';

export interface SigningKey {
  kid: string;
  alg: 'EdDSA' | 'ES256';
  privateKey: CryptoKey;
  /** The public half as published in the JWKS. */
  publicJwk: JWK;
}

export interface SignInput {
  issuer: string;
  tenantId: string;
  clusterId: string;
  revision: number;
  digest: string;
  content: BundleContentV1;
  issuedAt: number;
  /** Seconds the signature stays valid (24 h by default). */
  ttlSeconds: number;
}

/** A compact JWS (JWT claim set) carrying the bundle content and the claims the agent checks. */
export function signBundle(key: SigningKey, input: SignInput): Promise<string> {
  return new SignJWT({ tid: input.tenantId, rev: input.revision, dig: input.digest, bundle: input.content })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: BUNDLE_JWS_TYPE })
    .setIssuer(input.issuer)
    .setAudience(input.clusterId)
    .setIssuedAt(input.issuedAt)
    .setExpirationTime(input.issuedAt + input.ttlSeconds)
    .sign(key.privateKey);
}
