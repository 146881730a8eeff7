import { and, eq, isNull, sql } from 'drizzle-orm';
import { clusterCredentials, enrollmentTokens } from '../../schema/tables/index.ts';
import { mintSecret } from '../auth/api-keys.crypto.ts';
import { bySecretHash, enterTenant, type Db, type Tx } from '../db/db.ts';
import { uuidv7 } from '../ids.ts';
import { sha256Hex } from '../ids.ts';

export async function createEnrollmentToken(tx: Tx, input: { tenantId: string; clusterId: string; expiresAt: Date; by: string }) {
  const token = await mintSecret('pet');
  await tx.insert(enrollmentTokens).values({ tenantId: input.tenantId, id: uuidv7(), clusterId: input.clusterId, tokenHash: token.hash, expiresAt: input.expiresAt.toISOString(), createdBy: input.by });
  return token.secret;
}

export async function issueCredential(tx: Tx, tenantId: string, clusterId: string, expiresAt: Date | null = null) {
  const secret = await mintSecret('pcc');
  const id = uuidv7();
  await tx.insert(clusterCredentials).values({ tenantId, id, clusterId, prefix: secret.prefix, secretHash: secret.hash, expiresAt: expiresAt?.toISOString() ?? null });
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
