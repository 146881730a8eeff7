import { BundleClaims, BundleContentV1 } from '../../../schema/bundle.ts';
import { contentDigest } from '../../../schema/canonical-json.ts';
import { reject, shown } from './errors.ts';

/** The claim set as signed, before its types are checked. */
export type RawClaims = Record<string, unknown>;

/** The authenticated payload must be a JSON object. */
export function parseClaims(payload: Uint8Array): RawClaims {
  let claims: unknown;
  try {
    claims = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (cause) {
    return reject('malformed', 'the payload is not JSON', cause);
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) return reject('malformed', 'the payload is not a JSON object');
  return claims as RawClaims;
}

/** Step 6: who issued it, for which tenant, for which cluster (the JWT audience). */
export function checkAudience(claims: RawClaims, expected: { issuer: string; tenantId: string; clusterId: string }): void {
  if (claims.iss !== expected.issuer) reject('wrong_issuer', `issuer is ${shown(claims.iss)}, expected ${shown(expected.issuer)}`);
  if (claims.tid !== expected.tenantId) reject('wrong_tenant', `bundle is for tenant ${shown(claims.tid)}, not ${shown(expected.tenantId)}`);
  if (claims.aud !== expected.clusterId) reject('wrong_cluster', `bundle is for cluster ${shown(claims.aud)}, not ${shown(expected.clusterId)}`);
}

/** Step 7: expiry (`exp`, seconds). Returns whether it expired; throws unless `allowExpired`. */
export function checkExpiry(claims: RawClaims, now: Date, allowExpired: boolean): boolean {
  const exp = claims.exp;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return reject('malformed', 'the claim set has no numeric "exp"');
  const expired = now.getTime() >= exp * 1000;
  if (expired && !allowExpired) reject('expired', `bundle expired at ${new Date(exp * 1000).toISOString()}`);
  return expired;
}

/** Step 8: no going back to a revision older than the last one accepted. The same revision is fine (a re-signing). */
export function checkRevision(claims: RawClaims, minRevision: number | undefined): number {
  const rev = claims.rev;
  if (typeof rev !== 'number' || !Number.isSafeInteger(rev) || rev < 1) return reject('malformed', `"rev" is ${shown(rev)}, not a positive integer`);
  if (minRevision !== undefined && rev < minRevision) reject('revision_rollback', `revision ${rev} is older than the accepted revision ${minRevision}`);
  return rev;
}

/** Step 9: `dig` is the digest of the canonical JSON of the content it came with. */
export async function checkDigest(claims: RawClaims): Promise<string> {
  let actual: string;
  try {
    actual = await contentDigest(claims.bundle);
  } catch (cause) {
    return reject('digest_mismatch', 'the bundle content cannot be digested', cause);
  }
  if (actual !== claims.dig) reject('digest_mismatch', `content digest is ${actual}, the claims say ${shown(claims.dig)}`);
  return actual;
}

/** Step 10: claims and content match the format v1 schemas, and the content names the same tenant and cluster. */
export async function checkSchema(claims: RawClaims): Promise<{ claims: BundleClaims; content: BundleContentV1 }> {
  const parsedClaims = BundleClaims.safeParse(claims);
  if (!parsedClaims.success) return reject('schema_invalid', `claims: ${issues(parsedClaims.error)}`, parsedClaims.error);
  const content = await BundleContentV1.safeParseAsync(claims.bundle);
  if (!content.success) return reject('schema_invalid', `content: ${issues(content.error)}`, content.error);
  if (content.data.tenantId !== parsedClaims.data.tid) reject('schema_invalid', `content is for tenant ${shown(content.data.tenantId)}, the claims say ${shown(parsedClaims.data.tid)}`);
  if (content.data.cluster.id !== parsedClaims.data.aud) reject('schema_invalid', `content is for cluster ${shown(content.data.cluster.id)}, the claims say ${shown(parsedClaims.data.aud)}`);
  return { claims: parsedClaims.data, content: content.data };
}

function issues(error: { issues: Array<{ path: PropertyKey[]; message: string }> }): string {
  const shownIssues = error.issues.slice(0, 3).map((i) => `${i.path.length ? '/' + i.path.map(String).join('/') : '(root)'}: ${i.message}`);
  return shownIssues.join('; ') + (error.issues.length > 3 ? ` (and ${error.issues.length - 3} more)` : '');
}
