import { and, eq, isNull, sql } from 'drizzle-orm';
import { clusterCredentials, enrollmentTokens } from '../../schema/tables/index.ts';
import { mintSecret } from '../auth/api-keys.crypto.ts';
import { bySecretHash, enterTenant, type Db, type Tx } from '../db/db.ts';
import { uuidv7 } from '../ids.ts';
import { bumpChangeMarker } from './change-markers.ts';
import { sha256Hex } from '../ids.ts';

export async function createEnrollmentToken(tx: Tx, input: { tenantId: string; clusterId: string; expiresAt: Date; by: string }) {
  const token = await mintSecret('pet');
  await tx.insert(enrollmentTokens).values({ tenantId: input.tenantId, id: uuidv7(), clusterId: input.clusterId, tokenHash: token.hash, expiresAt: input.expiresAt.toISOString(), createdBy: input.by });
  return token.secret;
}

/** A new credential for the cluster; `rotatedFrom` names the one it replaces (see `revokeCredentialChain`). */
export async function issueCredential(tx: Tx, tenantId: string, clusterId: string, rotatedFrom: string | null = null) {
  const secret = await mintSecret('pcc');
  const id = uuidv7();
  await tx.insert(clusterCredentials).values({ tenantId, id, clusterId, prefix: secret.prefix, secretHash: secret.hash, rotatedFrom });
  return { id, secret: secret.secret, prefix: secret.prefix };
}

/** Spends a one-time token: exactly one caller wins, and a used or expired token gives nothing. */
export async function redeemEnrollmentToken(db: Db, token: string, now: Date): Promise<{ tenantId: string; clusterId: string; credential: string } | undefined> {
  const hash = await sha256Hex(token);
  return bySecretHash(db, hash, async (tx) => {
    const [spent] = await tx
      .update(enrollmentTokens)
      .set({ usedAt: now.toISOString() })
      .where(and(eq(enrollmentTokens.tokenHash, hash), isNull(enrollmentTokens.usedAt), sql`${enrollmentTokens.expiresAt} > ${now.toISOString()}`))
      .returning({ tenantId: enrollmentTokens.tenantId, clusterId: enrollmentTokens.clusterId });
    if (!spent) return undefined;
    await enterTenant(tx, spent.tenantId);
    const credential = await issueCredential(tx, spent.tenantId, spent.clusterId);
    return { ...spent, credential: credential.secret };
  });
}

/**
 * Revokes a credential with its whole rotation chain: those it was rotated from (still in their overlap) and those
 * rotated from it, so a leaked credential cannot live on in a successor it minted. Answers the ids revoked, none when
 * the credential is not the cluster's.
 */
export async function revokeCredentialChain(tx: Tx, tenantId: string, clusterId: string, credentialId: string): Promise<string[]> {
  const result = (await tx.execute(sql`
    with recursive up as (
      select id, rotated_from from cluster_credentials where tenant_id = ${tenantId} and cluster_id = ${clusterId} and id = ${credentialId}
      union all
      select p.id, p.rotated_from from cluster_credentials p join up on p.id = up.rotated_from where p.tenant_id = ${tenantId}
    ), chain as (
      select id from up
      union
      select c.id from cluster_credentials c join chain on c.rotated_from = chain.id where c.tenant_id = ${tenantId}
    )
    update cluster_credentials set revoked_at = coalesce(revoked_at, now())
    where tenant_id = ${tenantId} and cluster_id = ${clusterId} and id in (select id from chain)
    returning id`)) as unknown as { rows: Array<{ id: string }> };
  // Instances that trust the credential from a cache learn of the revocation through the marker.
  if (result.rows.length > 0) await bumpChangeMarker(tx, tenantId);
  return result.rows.map((r) => r.id);
}
