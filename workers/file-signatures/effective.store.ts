import { and, eq, sql } from 'drizzle-orm';
import {
  MAX_EFFECTIVE_SIGNATURES,
  MAX_EFFECTIVE_SIGNATURES_BYTES,
  mergeSignatureSets,
  type BundleFileSignatures,
  type EffectiveSignatureSet,
} from '../../schema/file-signature-sets.ts';
import { fileSignatureSets as sets, fileSignaturesEffective as effective } from '../../schema/tables/index.ts';
import type { Tx } from '../db/db.ts';
import { PalisadeError } from '../http/errors.ts';

export type EffectiveRow = typeof effective.$inferSelect;

/** The version of the set a tenant has before its first upload: EICAR alone. */
export const FIRST_VERSION = 1;
let eicarOnly: Promise<EffectiveSignatureSet> | undefined;
/** The effective set of a tenant without sets. */
export const emptyEffective = () => (eicarOnly ??= mergeSignatureSets([]));

const utf8Bytes = (text: string) => new TextEncoder().encode(text).byteLength;

/** The row of a tenant without one: version 1, EICAR alone, unsigned. */
export async function defaultEffectiveRow(tenantId: string): Promise<EffectiveRow> {
  const set = await emptyEffective();
  return { tenantId, version: FIRST_VERSION, digest: set.digest, content: set.canonical, signatureCount: set.signatureCount, bytes: utf8Bytes(set.canonical), jws: null, kid: null, issuedAt: null, expiresAt: null, updatedAt: new Date(0).toISOString() };
}

/**
 * Merges the tenant's sets again, in the transaction that changed one; the version rises only when the digest does.
 * A tenant lock serializes concurrent changes: each merge then reads what the one before it committed. Refuses
 * (413, rolling the change back) an effective set over the caps every agent must hold.
 */
export async function recomputeEffective(tx: Tx, tenantId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext('palisade.file-signatures'), hashtext(${tenantId}))`);
  const rows = await tx.select({ signatures: sets.signatures }).from(sets).where(eq(sets.tenantId, tenantId));
  const merged = await mergeSignatureSets(rows.map((r) => r.signatures));
  const bytes = utf8Bytes(merged.canonical);
  if (merged.signatureCount > MAX_EFFECTIVE_SIGNATURES || bytes > MAX_EFFECTIVE_SIGNATURES_BYTES) {
    throw new PalisadeError(
      'payload_too_large',
      `the tenant's signature sets together would hold ${merged.signatureCount} signatures in ${bytes} bytes; the limits are ${MAX_EFFECTIVE_SIGNATURES} and ${MAX_EFFECTIVE_SIGNATURES_BYTES} bytes`,
    );
  }
  const [current] = await tx.select({ version: effective.version, digest: effective.digest }).from(effective).where(eq(effective.tenantId, tenantId)).for('update');
  const before = current ?? { version: FIRST_VERSION, digest: (await emptyEffective()).digest };
  if (before.digest === merged.digest) return;
  const values = { version: before.version + 1, digest: merged.digest, content: merged.canonical, signatureCount: merged.signatureCount, bytes, jws: null, kid: null, issuedAt: null, expiresAt: null, updatedAt: sql`now()` };
  await tx
    .insert(effective)
    .values({ tenantId, ...values } as never)
    .onConflictDoUpdate({ target: effective.tenantId, set: values as never });
}

/** What bundles name: version, digest and count, without the content. */
export async function effectiveFacts(tx: Tx, tenantId: string): Promise<BundleFileSignatures & { bytes: number; updatedAt: string | null }> {
  const [row] = await tx
    .select({ version: effective.version, digest: effective.digest, signatureCount: effective.signatureCount, bytes: effective.bytes, updatedAt: effective.updatedAt })
    .from(effective)
    .where(eq(effective.tenantId, tenantId));
  if (row) return { ...row, updatedAt: new Date(row.updatedAt).toISOString() };
  const first = await defaultEffectiveRow(tenantId);
  return { version: first.version, digest: first.digest, signatureCount: first.signatureCount, bytes: first.bytes, updatedAt: null };
}

/** The whole row, locked for signing; created (version 1, EICAR alone) for a tenant that never uploaded a set. */
export async function lockEffectiveRow(tx: Tx, tenantId: string): Promise<EffectiveRow> {
  const read = () => tx.select().from(effective).where(eq(effective.tenantId, tenantId)).for('update');
  const [row] = await read();
  if (row) return row;
  const { updatedAt: _, ...first } = await defaultEffectiveRow(tenantId);
  await tx.insert(effective).values(first).onConflictDoNothing();
  return (await read())[0]!;
}

export async function saveSignature(tx: Tx, row: EffectiveRow): Promise<void> {
  await tx
    .update(effective)
    .set({ jws: row.jws, kid: row.kid, issuedAt: row.issuedAt, expiresAt: row.expiresAt })
    .where(and(eq(effective.tenantId, row.tenantId), eq(effective.version, row.version)));
}

/** The effective set as canonical JSON, with its version and digest. */
export async function effectiveDocument(tx: Tx, tenantId: string): Promise<Pick<EffectiveRow, 'version' | 'digest' | 'content'>> {
  const [row] = await tx.select({ version: effective.version, digest: effective.digest, content: effective.content }).from(effective).where(eq(effective.tenantId, tenantId));
  return row ?? (await defaultEffectiveRow(tenantId));
}
