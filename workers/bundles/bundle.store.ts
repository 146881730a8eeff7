import { and, eq, inArray, sql, type SQL } from 'drizzle-orm';
import { canonicalJson } from '../../schema/canonical-json.ts';
import { FILE_THREAT_PROTECTION_DEFAULTS } from '../../schema/file-threat-protection.ts';
import * as t from '../../schema/tables/index.ts';
import type { Tx } from '../db/db.ts';
import { effectiveFacts } from '../file-signatures/effective.store.ts';
import type { BundleSources } from './bundle.compile.ts';
import { cachedRows, type SourceRowCache } from './source-cache.ts';

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

/** A row version's marker: see source-cache.ts (unqualified: each statement reads one table). */
const rowMarker = sql<string>`xmin::text || ctid::text`;

type Source = typeof t.runtimePolicies | typeof t.scopes | typeof t.runtimeProfiles | typeof t.signatureValidators | typeof t.images | typeof t.registries;

/** The sources a bundle reads row by row, with the filter each is read with. */
const SOURCES: Array<[name: string, table: Source, filter?: SQL]> = [
  ['policies', t.runtimePolicies, eq(t.runtimePolicies.enabled, true)],
  ['scopes', t.scopes],
  ['runtimeProfiles', t.runtimeProfiles],
  ['signatureValidators', t.signatureValidators],
  ['images', t.images],
  ['registries', t.registries],
];

/**
 * One statement: per source, the number of the tenant's rows and a SHA-256 of their ids and markers in id order. Equal
 * fingerprints mean the same row versions (a marker never comes back), so the rows held need no reading.
 */
async function fingerprints(tx: Tx, tenantId: string): Promise<Record<string, string>> {
  const parts = SOURCES.map(
    ([name, table, filter]) =>
      sql`(select count(*)::text || ':' || coalesce(encode(sha256(convert_to(string_agg(id::text || '/' || ${rowMarker}, ',' order by id), 'UTF8')), 'hex'), '') from ${table} where ${and(eq(table.tenantId, tenantId), filter)}) as ${sql.identifier(name)}`,
  );
  const [row] = await tx.select({ fp: sql<Record<string, string>>`json_build_object(${sql.join(SOURCES.map(([name]) => sql`${name}::text, f.${sql.identifier(name)}`), sql`, `)})` }).from(sql`(select ${sql.join(parts, sql`, `)}) as f`);
  const fp = row!.fp;
  return typeof fp === 'string' ? (JSON.parse(fp) as Record<string, string>) : fp;
}

/**
 * Reads what a bundle may draw on; undefined when the cluster does not exist in the tenant. With `cache`, the rows of
 * the tenant's policies, scopes, profiles, validators, images and registries are read only when they changed since this
 * instance last read them (see source-cache.ts), and `inputs` names the whole input: equal strings, same sources. The
 * result is the same either way.
 */
export async function loadBundleSources(tx: Tx, tenantId: string, clusterId: string, cache?: SourceRowCache): Promise<(BundleSources & { inputs?: string }) | undefined> {
  const [cluster] = await tx.select({ id: t.clusters.id, spec: t.clusters.spec }).from(t.clusters).where(and(eq(t.clusters.tenantId, tenantId), eq(t.clusters.id, clusterId)));
  if (!cluster) return undefined;
  const fps = cache ? await fingerprints(tx, tenantId) : undefined;
  const read = <R extends { id: string }>(index: number, columns: Record<string, unknown>) => {
    const [name, table, filter] = SOURCES[index]!;
    const from = (cols: Record<string, unknown>, more?: SQL) =>
      tx.select(cols as never).from(table as typeof t.scopes).where(and(eq(table.tenantId, tenantId), filter, more)) as unknown as Promise<Array<R & { marker: string }>>;
    return cachedRows<R>(cache, tenantId, name, fps?.[name], {
      all: () => from({ id: table.id, ...columns, marker: rowMarker }),
      markers: () => from({ id: table.id, marker: rowMarker }),
      some: (ids) => from({ id: table.id, ...columns, marker: rowMarker }, inArray(table.id, ids)),
    });
  };
  const p = t.runtimePolicies;
  const i = t.images;
  const policies = await read<BundleSources['policies'][number]>(0, { spec: p.spec, version: p.version });
  const scopes = await read<BundleSources['scopes'][number]>(1, { spec: t.scopes.spec, global: t.scopes.global });
  const runtimeProfiles = await read<BundleSources['runtimeProfiles'][number]>(2, { spec: t.runtimeProfiles.spec });
  const signatureValidators = await read<BundleSources['signatureValidators'][number]>(3, { spec: t.signatureValidators.spec });
  const images = await read<BundleSources['images'][number]>(4, { spec: i.spec, complianceReasons: i.complianceReasons, compliantUntil: i.compliantUntil });
  const registries = await read<BundleSources['registries'][number]>(5, { spec: t.registries.spec });
  const ftp = await tx.select({ spec: t.fileThreatProtectionSettings.spec }).from(t.fileThreatProtectionSettings).where(eq(t.fileThreatProtectionSettings.tenantId, tenantId));
  const { version, digest, signatureCount } = await effectiveFacts(tx, tenantId);
  const sources: BundleSources = {
    tenantId,
    cluster,
    policies,
    scopes,
    runtimeProfiles,
    signatureValidators,
    images,
    registries,
    fileThreatProtection: ftp[0]?.spec ?? FILE_THREAT_PROTECTION_DEFAULTS,
    fileSignatures: { version, digest, signatureCount },
  };
  // The rest is small and read whole: it enters the name as is.
  const inputs = fps && canonicalJson({ tenantId, cluster, fps, ftp: sources.fileThreatProtection, fileSignatures: sources.fileSignatures });
  return inputs ? { ...sources, inputs } : sources;
}
