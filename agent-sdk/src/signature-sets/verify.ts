import { canonicalJson, sha256Digest } from '../../../schema/canonical-json.ts';
import { MAX_SIGNED_SIGNATURES_BYTES, SIGNATURES_JWS_TYPE, SignatureSetClaims, type BundleFileSignatures } from '../../../schema/file-signature-sets.ts';
import { SignatureSetDocument } from '../../../schema/file-signatures.ts';
import { checkExpiry, parseClaims } from '../bundle/claims.ts';
import { reject, shown } from '../bundle/errors.ts';
import { checkAlgorithm, checkSignature, checkSize, parseCompact, selectTrustedKey, type AllowedAlgorithm, type JWKS } from '../bundle/jws.ts';

/**
 * What a signature set is checked against: the agent's own trust anchor, issuer and tenant (as for bundles) and, for a
 * set that arrives over the network, the version and digest the current verified bundle names.
 *
 * @example
 * ```ts
 * const options: VerifySignatureSetOptions = { trust, issuer, tenantId, expected: bundle.content.fileSignatures, now: new Date() };
 * ```
 */
export interface VerifySignatureSetOptions {
  trust: JWKS;
  issuer: string;
  tenantId: string;
  /** The set the bundle names; any other version or digest is refused (`digest_mismatch`). */
  expected?: Pick<BundleFileSignatures, 'version' | 'digest'>;
  /** Size limit of the compact JWS; default `MAX_SIGNED_SIGNATURES_BYTES` (the control plane's cap). */
  maxBytes?: number;
  now: Date;
  /** Accept an expired signature (with `expired: true`): only for the last good set loaded from disk. */
  allowExpired?: boolean;
}

/**
 * A signature set that passed every check.
 *
 * @example
 * ```ts
 * const set = await verifySignatureSet(jws, options);
 * console.log(set.version, set.digest, set.document.signatures.length);
 * ```
 */
export interface VerifiedSignatureSet {
  /** The compact JWS as received; what gets persisted. */
  jws: string;
  alg: AllowedAlgorithm;
  kid: string;
  version: number;
  /** `sha256:<hex>` of the canonical JSON of `document`. */
  digest: string;
  issuedAt: Date;
  expiresAt: Date;
  expired: boolean;
  /** The effective set: EICAR first, then the tenant's signatures. */
  document: SignatureSetDocument;
}

/**
 * Verifies a signed signature set (`GET /v1/agent/file-signatures`) as bundles are verified, and throws a
 * `BundleVerificationError` naming the first failed check:
 *
 *  1. size, structure (`typ: palisade-signatures+jwt`), algorithm, trusted key, signature (as `verifyBundle`)
 *  2. `wrong_issuer`, `wrong_tenant`
 *  3. `expired` (unless `allowExpired`)
 *  4. `digest_mismatch`: the digest of the set is not its `dig` claim, or the set is not the one `expected` names
 *  5. `schema_invalid`: claims and `SignatureSetDocument`
 *
 * @example
 * ```ts
 * const set = await verifySignatureSet(jws, { trust, issuer, tenantId, expected: bundle.content.fileSignatures, now: new Date() });
 * const index = new SignatureIndex(set.document.signatures);
 * ```
 */
export async function verifySignatureSet(input: string | Uint8Array, options: VerifySignatureSetOptions): Promise<VerifiedSignatureSet> {
  const jws = checkSize(input, options.maxBytes ?? MAX_SIGNED_SIGNATURES_BYTES);
  const header = parseCompact(jws, SIGNATURES_JWS_TYPE);
  const alg = checkAlgorithm(header);
  const key = await selectTrustedKey(options.trust, header, alg);
  const claims = parseClaims(await checkSignature(jws, key, alg));
  if (claims.iss !== options.issuer) reject('wrong_issuer', `issuer is ${shown(claims.iss)}, expected ${shown(options.issuer)}`);
  if (claims.tid !== options.tenantId) reject('wrong_tenant', `signature set is for tenant ${shown(claims.tid)}, not ${shown(options.tenantId)}`);
  const expired = checkExpiry(claims, options.now, true);
  if (expired && !options.allowExpired) reject('expired', `signature set expired at ${new Date((claims.exp as number) * 1000).toISOString()}`);
  let digest: string;
  try {
    digest = await sha256Digest(canonicalJson(claims.signatures));
  } catch (cause) {
    return reject('digest_mismatch', 'the signature set cannot be digested', cause);
  }
  if (digest !== claims.dig) reject('digest_mismatch', `signature set digest is ${digest}, the claims say ${shown(claims.dig)}`);
  const { expected } = options;
  if (expected && (expected.digest !== digest || expected.version !== claims.ver)) {
    reject('digest_mismatch', `the bundle names signature set version ${expected.version} (${expected.digest}), this is version ${shown(claims.ver)} (${digest})`);
  }
  const typed = SignatureSetClaims.safeParse(claims);
  if (!typed.success) return reject('schema_invalid', `claims: ${typed.error.issues[0]!.message}`, typed.error);
  const document = SignatureSetDocument.safeParse(claims.signatures);
  if (!document.success) {
    const issue = document.error.issues[0]!;
    return reject('schema_invalid', `signatures: /${issue.path.join('/')}: ${issue.message}`, document.error);
  }
  const { ver, iat, exp } = typed.data;
  return { jws, alg, kid: header.kid, version: ver, digest, issuedAt: new Date(iat * 1000), expiresAt: new Date(exp * 1000), expired, document: document.data };
}
