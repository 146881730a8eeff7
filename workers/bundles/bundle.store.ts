import { and, eq, sql } from 'drizzle-orm';
import { FILE_THREAT_PROTECTION_DEFAULTS } from '../../schema/file-threat-protection.ts';
import * as t from '../../schema/tables/index.ts';
import type { Tx } from '../db/db.ts';
import { effectiveFacts } from '../file-signatures/effective.store.ts';
import type { BundleSources } from './bundle.compile.ts';

export type BundleRow = typeof t.clusterBundles.$inferSelect;

/**
 * The tenant's compile lock: writers hold it shared from their stale mark to commit, a compile holds it exclusively
 * while it reads sources. Without it a compile could read sources before a change commits while the change's mark
 * found the row already stale (so it neither locked nor changed it), and the compile would then store the old
 * content as fresh. With it, a compile waits for marked changes to commit, and a change marks after the compile.
 * A writer takes it as its last write (after the statements that may wait for row locks): a compile holds its
 * cluster and bundle rows while it waits for the lock, so a writer holding the lock must not wait for them.
 */
const compileLock = (tenantId: string) => sql`hashtext('palisade.bundles'), hashtext(${tenantId})`;

/** A compile's exclusive hold on the tenant's sources, until its transaction ends. */
export async function lockTenantSources(tx: Tx, tenantId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${compileLock(tenantId)})`);
}

/**
 * The stale mark as an SQL expression (true), for a write to fold into its own statement: the compile lock held
 * shared, every bundle of the tenant marked stale, the tenant's change marker raised (palisade_mark_bundles_stale,
 * migration 0023; the same lock as compileLock). The function takes the lock and marks in separate statements of
 * its own, so the mark's snapshot is taken after the lock is held, whatever statement calls it.
 */
export const markTenantBundlesStaleSql = (tenantId: string) => sql<boolean>`palisade_mark_bundles_stale(${tenantId})`;

/** Marks every bundle of the tenant for recompilation; called in the transaction that changed something they draw on. */
export async function markTenantBundlesStale(tx: Tx, tenantId: string): Promise<void> {
  await tx.execute(sql`select ${markTenantBundlesStaleSql(tenantId)}`);
}

const b = t.clusterBundles;
const ofCluster = (tenantId: string, clusterId: string) => and(eq(b.tenantId, tenantId), eq(b.clusterId, clusterId));
const small = { tenantId: b.tenantId, clusterId: b.clusterId, revision: b.revision, digest: b.digest, kid: b.kid, issuedAt: b.issuedAt, expiresAt: b.expiresAt, stale: b.stale };

/**
 * The row, with its megabytes (content, JWS, gzip) only when it is not stale: a stale row is recompiled, and reading
 * what is about to be replaced would double the cost of a refresh.
 */
export async function readBundleRow(tx: Tx, tenantId: string, clusterId: string): Promise<BundleRow | undefined> {
  const unlessStale = <C extends typeof b.content | typeof b.jws | typeof b.jwsGzip>(column: C) => sql<C['_']['data'] | null>`case when ${b.stale} then null else ${column} end`;
  const [row] = await tx
    .select({ ...small, content: unlessStale(b.content), jws: unlessStale(b.jws), jwsGzip: unlessStale(b.jwsGzip) })
    .from(b)
    .where(ofCluster(tenantId, clusterId));
  return row;
}

/** A row locked for a refresh: its small columns, and whether content and signature are there (not their bytes). */
export type LockedBundleRow = Omit<BundleRow, 'content' | 'jws' | 'jwsGzip'> & { hasContent: boolean; signed: boolean };

/** The row to compile into, created on first use and locked so that concurrent polls compile once; undefined without the cluster. */
export async function lockBundleRow(tx: Tx, tenantId: string, clusterId: string): Promise<LockedBundleRow | undefined> {
  const [cluster] = await tx.select({ id: t.clusters.id }).from(t.clusters).where(and(eq(t.clusters.tenantId, tenantId), eq(t.clusters.id, clusterId))).for('share');
  if (!cluster) return undefined;
  await tx.insert(b).values({ tenantId, clusterId }).onConflictDoNothing();
  const [row] = await tx
    .select({ ...small, hasContent: sql<boolean>`${b.content} is not null`, signed: sql<boolean>`${b.jws} is not null` })
    .from(b)
    .where(ofCluster(tenantId, clusterId))
    .for('update');
  return row;
}

/** The stored content, JWS and gzip of a row. */
export async function readBundleBytes(tx: Tx, tenantId: string, clusterId: string): Promise<Pick<BundleRow, 'content' | 'jws' | 'jwsGzip'>> {
  const [row] = await tx.select({ content: b.content, jws: b.jws, jwsGzip: b.jwsGzip }).from(b).where(ofCluster(tenantId, clusterId));
  return row ?? { content: null, jws: null, jwsGzip: null };
}

/** Writes the row's values; a partial row writes only the columns it names. */
export async function saveBundleRow(tx: Tx, row: Pick<BundleRow, 'tenantId' | 'clusterId'> & Partial<BundleRow>): Promise<void> {
  const { tenantId, clusterId, ...values } = row;
  await tx.update(b).set(values).where(ofCluster(tenantId, clusterId));
}

/** Reads what a bundle may draw on; undefined when the cluster does not exist in the tenant. */
export async function loadBundleSources(tx: Tx, tenantId: string, clusterId: string): Promise<BundleSources | undefined> {
  const [cluster] = await tx.select({ id: t.clusters.id, spec: t.clusters.spec }).from(t.clusters).where(and(eq(t.clusters.tenantId, tenantId), eq(t.clusters.id, clusterId)));
  if (!cluster) return undefined;
  const of = <T extends typeof t.scopes | typeof t.runtimeProfiles | typeof t.signatureValidators | typeof t.images | typeof t.registries>(table: T) =>
    tx.select({ id: table.id, spec: table.spec }).from(table as typeof t.scopes).where(eq(table.tenantId, tenantId));
  const [policies, scopes, runtimeProfiles, signatureValidators, images, registries, ftp] = [
    await tx.select({ id: t.runtimePolicies.id, spec: t.runtimePolicies.spec, version: t.runtimePolicies.version }).from(t.runtimePolicies).where(and(eq(t.runtimePolicies.tenantId, tenantId), eq(t.runtimePolicies.enabled, true))),
    await tx.select({ id: t.scopes.id, spec: t.scopes.spec, global: t.scopes.global }).from(t.scopes).where(eq(t.scopes.tenantId, tenantId)),
    await of(t.runtimeProfiles),
    await of(t.signatureValidators),
    await tx.select({ id: t.images.id, spec: t.images.spec, complianceReasons: t.images.complianceReasons, compliantUntil: t.images.compliantUntil }).from(t.images).where(eq(t.images.tenantId, tenantId)),
    await of(t.registries),
    await tx.select({ spec: t.fileThreatProtectionSettings.spec }).from(t.fileThreatProtectionSettings).where(eq(t.fileThreatProtectionSettings.tenantId, tenantId)),
  ];
  const { version, digest, signatureCount } = await effectiveFacts(tx, tenantId);
  return {
    tenantId,
    cluster,
    policies,
    scopes,
    runtimeProfiles: runtimeProfiles as never,
    signatureValidators: signatureValidators as never,
    images: images as never,
    registries: registries as never,
    fileThreatProtection: ftp[0]?.spec ?? FILE_THREAT_PROTECTION_DEFAULTS,
    fileSignatures: { version, digest, signatureCount },
  };
}

