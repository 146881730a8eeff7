import type { CryptoKey, JWK } from 'jose';
import { BUNDLE_JWS_TYPE, type BundleContentV1 } from '../../schema/bundle.ts';
import { canonicalJson } from '../../schema/canonical-json.ts';
import { base64urlBytes, base64urlText } from '../base64url.ts';

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
  /** The content, or its canonical JSON (saves parsing and re-serializing megabytes). */
  content: BundleContentV1 | string;
  issuedAt: number;
  /** Seconds the signature stays valid (24 h by default). */
  ttlSeconds: number;
}

/**
 * A compact JWS whose payload is a JWT claim set: issuer, tenant, cluster (audience), revision, content digest,
 * issued-at, expiry and the content itself. The claim set is canonical JSON, the content spliced in as is.
 *
 * Made with Web Crypto directly rather than jose's `CompactSign`, with the same bytes: the protected header is
 * `JSON.stringify({ alg, kid, typ })` as jose writes it, and Ed25519 signatures are deterministic (test/bundles/
 * bundle-sign.test.ts compares the two). jose encodes a megabyte payload to base64url in JavaScript, 3-4x slower than
 * `btoa` on the ASCII text that canonical JSON usually is.
 */
export async function signBundle(key: SigningKey, input: SignInput): Promise<string> {
  const claims = canonicalJson({ aud: input.clusterId, dig: input.digest, exp: input.issuedAt + input.ttlSeconds, iat: input.issuedAt, iss: input.issuer, rev: input.revision, tid: input.tenantId });
  const content = typeof input.content === 'string' ? input.content : canonicalJson(input.content);
  const payload = `{"bundle":${content},${claims.slice(1)}`;
  const signingInput = `${base64urlText(JSON.stringify({ alg: key.alg, kid: key.kid, typ: BUNDLE_JWS_TYPE }))}.${base64urlText(payload)}`;
  const algorithm = key.alg === 'EdDSA' ? { name: 'Ed25519' } : { name: 'ECDSA', hash: 'SHA-256' };
  const signature = new Uint8Array(await crypto.subtle.sign(algorithm, key.privateKey, new TextEncoder().encode(signingInput)));
  return `${signingInput}.${base64urlBytes(signature)}`;
}

/** gzip through the platform's CompressionStream (Workers and Node alike). */
export async function gzipText(text: string): Promise<Uint8Array> {
  return new Uint8Array(await new Response(new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer());
}
