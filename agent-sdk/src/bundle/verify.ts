import type { BundleContentV1 } from '../../../schema/bundle.ts';
import { checkAudience, checkDigest, checkExpiry, checkRevision, checkSchema, parseClaims } from './claims.ts';
import { checkAlgorithm, checkSignature, checkSize, parseCompact, selectTrustedKey, type AllowedAlgorithm, type JWKS } from './jws.ts';

/**
 * What a bundle is checked against. Everything comes from the agent's configuration, never from the bundle.
 *
 * @example
 * ```ts
 * const options: VerifyBundleOptions = { trust, issuer, tenantId, clusterId, maxBytes: DEFAULT_MAX_BUNDLE_BYTES, now: new Date() };
 * ```
 */
export interface VerifyBundleOptions {
  /** Public keys from the agent's own configuration. Keys inside a bundle are never used. */
  trust: JWKS;
  /** Expected `iss`. */
  issuer: string;
  /** Expected `tid`. */
  tenantId: string;
  /** Expected `aud`: this cluster's id. */
  clusterId: string;
  /** The revision of the last bundle accepted; an older one is a rollback. */
  minRevision?: number;
  /** Size limit of the compact JWS, in bytes. */
  maxBytes: number;
  now: Date;
  /**
   * Return an expired bundle (with `expired: true`) instead of refusing it. Only for the last-known-good bundle
   * loaded from disk; a bundle that arrives over the network must not be expired.
   */
  allowExpired?: boolean;
}

/**
 * A bundle that passed every check, with its content parsed (schema defaults applied).
 *
 * @example
 * ```ts
 * const { revision, digest, expiresAt, content } = await verifyBundle(jws, options);
 * ```
 */
export interface VerifiedBundle {
  /** The compact JWS as received; what gets persisted. */
  jws: string;
  alg: AllowedAlgorithm;
  kid: string;
  issuer: string;
  tenantId: string;
  clusterId: string;
  revision: number;
  /** `sha256:<hex>` of the canonical JSON of the content. */
  digest: string;
  issuedAt: Date;
  expiresAt: Date;
  /** True only when `allowExpired` let an expired bundle through. */
  expired: boolean;
  content: BundleContentV1;
}

/**
 * Default size limit of a bundle: 8 MiB.
 *
 * @example
 * ```ts
 * await verifyBundle(jws, { ...checks, maxBytes: DEFAULT_MAX_BUNDLE_BYTES });
 * ```
 */
export const DEFAULT_MAX_BUNDLE_BYTES = 8 * 1024 * 1024;

/**
 * Verifies a signed policy bundle. The checks run in this order and the first failure throws a
 * `BundleVerificationError` whose `code` names it:
 *
 *  1. size                  `too_large`          before parsing anything
 *  2. structure             `malformed`          compact JWS, `typ: palisade-bundle+jwt`, no `crit`/`b64`/embedded keys
 *  3. algorithm allow-list  `alg_not_allowed`    EdDSA or ES256; never `none` or HMAC
 *  4. key                   `unknown_key`        `kid` must be in the trust anchor (and of the header's algorithm)
 *  5. signature             `bad_signature`      only now is the payload read
 *  6. audience              `wrong_issuer`, `wrong_tenant`, `wrong_cluster`
 *  7. expiry                `expired`
 *  8. revision              `revision_rollback`  not older than `minRevision`
 *  9. content digest        `digest_mismatch`    `contentDigest(bundle) === dig`
 * 10. schema                `schema_invalid`     claims and `BundleContentV1`, content names the same tenant and cluster
 *
 * A payload that is not a JSON object, or lacks a numeric `exp` or integer `rev`, is `malformed`.
 *
 * @example
 * ```ts
 * const bundle = await verifyBundle(jws, {
 *   trust: JSON.parse(await readFile('/etc/palisade/jwks.json', 'utf8')), // the agent's own trust anchor
 *   issuer: 'https://palisade.example.com',
 *   tenantId,
 *   clusterId,
 *   minRevision: lastAccepted?.revision,
 *   maxBytes: DEFAULT_MAX_BUNDLE_BYTES,
 *   now: new Date(),
 * });
 * console.log(bundle.revision, bundle.content.policies.length);
 * ```
 */
export async function verifyBundle(input: string | Uint8Array, options: VerifyBundleOptions): Promise<VerifiedBundle> {
  const jws = checkSize(input, options.maxBytes);
  const header = parseCompact(jws);
  const alg = checkAlgorithm(header);
  const key = await selectTrustedKey(options.trust, header, alg);
  const claims = parseClaims(await checkSignature(jws, key, alg));
  checkAudience(claims, options);
  const expired = checkExpiry(claims, options.now, options.allowExpired ?? false);
  const revision = checkRevision(claims, options.minRevision);
  const digest = await checkDigest(claims);
  const { claims: typed, content } = await checkSchema(claims);
  return {
    jws,
    alg,
    kid: header.kid,
    issuer: typed.iss,
    tenantId: typed.tid,
    clusterId: typed.aud,
    revision,
    digest,
    issuedAt: new Date(typed.iat * 1000),
    expiresAt: new Date(typed.exp * 1000),
    expired,
    content,
  };
}
