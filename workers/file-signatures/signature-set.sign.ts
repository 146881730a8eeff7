import { CompactSign } from 'jose';
import { canonicalJson } from '../../schema/canonical-json.ts';
import { SIGNATURES_JWS_TYPE } from '../../schema/file-signature-sets.ts';
import type { SigningKey } from '../bundles/bundle.sign.ts';

export interface SignSetInput {
  issuer: string;
  tenantId: string;
  version: number;
  digest: string;
  /** Canonical JSON of the effective `SignatureSetDocument`, spliced into the payload as is. */
  content: string;
  issuedAt: number;
  ttlSeconds: number;
}

/**
 * A compact JWS like a bundle's (workers/bundles/bundle.sign.ts): same keys, same canonical claim set, its own `typ`
 * so neither document can pass for the other. Claims: issuer, tenant, version, digest, issued-at, expiry and the set.
 * The set is tenant-wide, so there is no cluster audience: which set a cluster uses is pinned by its bundle's digest.
 */
export function signSignatureSet(key: SigningKey, input: SignSetInput): Promise<string> {
  const claims = canonicalJson({ dig: input.digest, exp: input.issuedAt + input.ttlSeconds, iat: input.issuedAt, iss: input.issuer, tid: input.tenantId, ver: input.version });
  const payload = `${claims.slice(0, -1)},"signatures":${input.content}}`;
  return new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: SIGNATURES_JWS_TYPE }).sign(key.privateKey);
}
