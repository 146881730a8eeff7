import { and, eq, lte, sql } from 'drizzle-orm';
import { classifyAddress } from '../webhooks/ip.ts';
import { tryParseImageReference } from '../../schema/image-reference.ts';
import { REPOSITORY_NAME, TAG_NAME } from '../../schema/oci.ts';
import type { ImageRegistrySync, ImageSpec } from '../../schema/images.ts';
import type { RegistrySpec, RegistrySyncStatus } from '../../schema/registries.ts';
import { images, registries } from '../../schema/tables/index.ts';
import { markTenantBundlesStale } from '../bundles/bundle.store.ts';
import { inTenant, type Db, type Tx } from '../db/db.ts';
import { uuidv7 } from '../ids.ts';
import type { Resolve } from '../webhooks/ssrf.ts';
import { recomputeCompliance } from '../assurance/compliance.store.ts';
import { openCredentials, type Credentials } from './credentials.ts';
import { RegistryClient, type TagManifest } from './oci-client.ts';

export interface SyncDeps {
  fetch: typeof fetch;
  resolve: Resolve;
  /** Development only (PALISADE_REGISTRIES_ALLOW_LOOPBACK): registries on loopback, over plain http. */
  allowLoopback: boolean;
  credentialsKey?: CryptoKey;
  now: () => Date;
}

const MAX_ERRORS = 20;

/** The API endpoint and the repository prefix of a registry URL (`host[:port][/prefix]`). */
export function registryEndpoint(url: string, allowLoopback: boolean): { base: string; host: string; prefix: string } {
  const slash = url.indexOf('/');
  const host = (slash < 0 ? url : url.slice(0, slash)).toLowerCase();
  const prefix = slash < 0 ? '' : url.slice(slash + 1);
  const hostname = host.replace(/:\d+$/, '');
  const loopback = hostname === 'localhost' || classifyAddress(hostname) === 'loopback';
  const apiHost = host === 'docker.io' || host === 'index.docker.io' ? 'registry-1.docker.io' : host;
  return { base: `${loopback && allowLoopback ? 'http' : 'https'}://${apiHost}`, host, prefix };
}

interface Listing {
  repositories: Map<string, TagManifest[]>;
  status: Omit<RegistrySyncStatus, 'imagesRegistered' | 'tagsRemoved' | 'finishedAt' | 'state'>;
}

/** Talks to the registry (no transaction open meanwhile): repositories, their tags and what each tag resolves to. */
async function list(spec: RegistrySpec, credentials: Credentials | undefined, deps: SyncDeps, startedAt: Date): Promise<Listing> {
  const sync = spec.sync!;
  const { base, prefix } = registryEndpoint(spec.url, deps.allowLoopback);
  const client = new RegistryClient({ base, credentials, fetch: deps.fetch, resolve: deps.resolve, allowLoopback: deps.allowLoopback });
  const errors: RegistrySyncStatus['errors'] = [];
  const truncated: string[] = [];
  const under = (repo: string) => prefix === '' || repo === prefix || repo.startsWith(`${prefix}/`);
  let repos: string[];
  if (sync.repositories) {
    for (const r of sync.repositories.filter((r) => !under(r))) errors.push({ repository: r, message: `is not under the registry's path ${prefix}` });
    repos = sync.repositories.filter(under);
  } else {
    try {
      // The catalog lists every repository; the registry's path prefix narrows it here.
      const catalog = await client.catalog(10_000);
      // Names go into request paths: anything but a repository name (a `../`, a `?`) is dropped, not followed.
      repos = catalog.items.filter((r) => REPOSITORY_NAME.test(r) && r.length <= 255).filter(under);
      if (catalog.truncated) truncated.push('the catalog lists more than 10000 repositories');
    } catch (err) {
      errors.push({ repository: '', message: `the catalog (/v2/_catalog) could not be listed: ${(err as Error).message}; name the repositories in sync.repositories` });
      repos = [];
    }
  }
  if (repos.length > sync.maxRepositories) {
    truncated.push(`${repos.length} repositories, synced the first ${sync.maxRepositories} (maxRepositories)`);
    repos = repos.slice(0, sync.maxRepositories);
  }
  const repositories = new Map<string, TagManifest[]>();
  let tagCount = 0;
  for (const repo of repos) {
    try {
      const tags = await client.tags(repo, sync.maxTagsPerRepository);
      if (tags.truncated) truncated.push(`${repo}: more than ${sync.maxTagsPerRepository} tags (maxTagsPerRepository)`);
      const manifests: TagManifest[] = [];
      const bad = tags.items.filter((t) => !TAG_NAME.test(t));
      if (bad.length > 0 && errors.length < MAX_ERRORS) errors.push({ repository: repo, message: `skipped ${bad.length} tags that are not tag names (${bad.slice(0, 3).map((t) => JSON.stringify(t.slice(0, 40))).join(', ')})` });
      for (const tag of tags.items.filter((t) => TAG_NAME.test(t))) manifests.push(await client.manifest(repo, tag));
      repositories.set(repo, manifests);
      tagCount += manifests.length;
    } catch (err) {
      if (errors.length < MAX_ERRORS) errors.push({ repository: repo, message: (err as Error).message });
    }
  }
  return { repositories, status: { startedAt: startedAt.toISOString(), repositories: repositories.size, tags: tagCount, errors, truncated } };
}

/**
 * Writes what was listed: a registered image per digest found (tags as listed now; a platform manifest of an index as
 * its own image without tags), tags no longer listed removed from the image and marked in `registrySync.removedTags`,
 * images no tag points at any more kept and marked `missingSince`. Repositories that failed are left as they were.
 */
async function reconcile(tx: Tx, tenantId: string, registryId: string, host: string, listing: Listing, now: Date): Promise<{ registered: number; removed: number; digests: string[] }> {
  const at = now.toISOString();
  let registered = 0;
  let removed = 0;
  const digests: string[] = [];
  for (const [repo, manifests] of listing.repositories) {
    const name = tryParseImageReference(`${host}/${repo}`)?.name;
    if (!name) continue;
    const found = new Map<string, { tags: Set<string>; index?: ImageRegistrySync['index'] }>();
    for (const m of manifests) {
      const entry = found.get(m.digest) ?? { tags: new Set<string>() };
      entry.tags.add(m.tag);
      found.set(m.digest, entry);
      for (const child of m.children) if (!found.has(child.digest)) found.set(child.digest, { tags: new Set(), index: { digest: m.digest, platform: child.platform } });
    }
    const rows = await tx.select().from(images).where(and(eq(images.tenantId, tenantId), sql`${images.spec}->>'reference' = ${name}`)).for('update');
    const byDigest = new Map(rows.map((r) => [r.spec.digest, r]));
    for (const row of rows) {
      const mine = row.registrySync?.registryId === registryId;
      const hit = found.get(row.spec.digest);
      if (!hit && !mine) continue;
      const previous = row.registrySync;
      const oldTags = row.spec.tags;
      const tags = hit ? [...(mine ? hit.tags : new Set([...oldTags, ...hit.tags]))].sort() : [];
      const gone = mine ? oldTags.filter((t) => !tags.includes(t)) : [];
      removed += gone.length;
      const registrySync: ImageRegistrySync = {
        registryId,
        lastSeenAt: hit ? at : (previous?.lastSeenAt ?? at),
        removedTags: [...gone.map((tag) => ({ tag, removedAt: at })), ...(previous?.removedTags ?? []).filter((r) => !tags.includes(r.tag))].slice(0, 100),
        ...(hit ? {} : { missingSince: previous?.missingSince ?? at }),
        ...(hit?.index ? { index: hit.index } : previous?.index && !hit ? { index: previous.index } : {}),
      };
      const spec: ImageSpec = { ...row.spec, tags, registryId: row.spec.registryId ?? registryId };
      // lastSeenAt moves on every sync; write only when something a reader cares about changed, or once a day.
      const same = JSON.stringify(spec) === JSON.stringify(row.spec) && JSON.stringify({ ...registrySync, lastSeenAt: '' }) === JSON.stringify({ ...previous, lastSeenAt: '' });
      if (same && previous && Date.parse(previous.lastSeenAt) > now.getTime() - 86_400_000) continue;
      await tx.update(images).set({ spec, registrySync, version: sql`${images.version} + 1`, updatedAt: sql`now()` }).where(and(eq(images.tenantId, tenantId), eq(images.id, row.id)));
      if (!same) digests.push(row.spec.digest);
    }
    for (const [digest, hit] of found) {
      if (byDigest.has(digest)) continue;
      const spec: ImageSpec = { reference: name, digest, tags: [...hit.tags].sort(), registryId, compliance: 'notScanned' };
      await tx.insert(images).values({
        tenantId,
        id: uuidv7(),
        name: `${name}@${digest}`,
        spec,
        compliance: 'notScanned',
        registrySync: { registryId, lastSeenAt: at, removedTags: [], ...(hit.index ? { index: hit.index } : {}) },
        createdBy: `registrySync:${registryId}`,
        updatedBy: `registrySync:${registryId}`,
      });
      registered++;
      digests.push(digest);
    }
  }
  return { registered, removed, digests };
}

/**
 * Syncs one registry now: lists it (outside any transaction), then in one tenant transaction registers what it found,
 * recomputes compliance of the new images from stored scans, marks bundles stale when the inventory changed, and
 * stores the status and the next due time. Errors are recorded in the status, never thrown for registry trouble.
 */
export async function syncRegistry(db: Db, tenantId: string, registryId: string, deps: SyncDeps): Promise<{ status: RegistrySyncStatus; changed: boolean } | undefined> {
  const startedAt = deps.now();
  const [row] = await inTenant(db, tenantId, (tx) => tx.select().from(registries).where(and(eq(registries.tenantId, tenantId), eq(registries.id, registryId))));
  if (!row) return undefined;
  const spec = { ...row.spec, sync: row.spec.sync ?? { enabled: false, intervalMinutes: 60, maxRepositories: 100, maxTagsPerRepository: 100 } };
  let listing: Listing;
  try {
    const credentials = row.credentials ? await openCredentials(requireKey(deps), tenantId, row.credentials) : undefined;
    listing = await list(spec, credentials, deps, startedAt);
  } catch (err) {
    listing = { repositories: new Map(), status: { startedAt: startedAt.toISOString(), repositories: 0, tags: 0, errors: [{ repository: '', message: (err as Error).message }], truncated: [] } };
  }
  const finished = deps.now();
  return inTenant(db, tenantId, async (tx) => {
    const { registered, removed, digests } = await reconcile(tx, tenantId, registryId, registryEndpoint(spec.url, deps.allowLoopback).host, listing, finished);
    const recomputed = digests.length > 0 ? await recomputeCompliance(tx, tenantId, finished, { digests }) : 0;
    const changed = registered > 0 || digests.length > 0 || recomputed > 0;
    if (changed) await markTenantBundlesStale(tx, tenantId);
    const failed = listing.status.errors.length > 0;
    const status: RegistrySyncStatus = {
      ...listing.status,
      state: failed ? (listing.repositories.size > 0 ? 'partial' : 'failed') : listing.status.truncated.length > 0 ? 'partial' : 'ok',
      finishedAt: finished.toISOString(),
      imagesRegistered: registered,
      tagsRemoved: removed,
    };
    const next = spec.sync.enabled ? new Date(finished.getTime() + spec.sync.intervalMinutes * 60_000).toISOString() : null;
    await tx.update(registries).set({ syncStatus: status, nextSyncAt: next }).where(and(eq(registries.tenantId, tenantId), eq(registries.id, registryId)));
    return { status, changed };
  });
}

function requireKey(deps: SyncDeps): CryptoKey {
  if (!deps.credentialsKey) throw new Error('the registry has credentials but no credentials key is configured (PALISADE_REGISTRY_CREDENTIALS_KEY)');
  return deps.credentialsKey;
}

/**
 * The scheduled pass (Node timer, Workers cron): finds registries whose sync is due (as palisade_system, which may
 * only read registries across tenants), claims each by moving its due time in its tenant's transaction (a concurrent
 * pass skips it), and syncs it. At most `limit` registries per pass; the rest are due at the next.
 */
export async function syncDueRegistries(db: Db, deps: SyncDeps, limit = 10): Promise<{ synced: number; changedTenants: string[] }> {
  const now = deps.now();
  const due = await db.transaction(async (tx) => {
    await tx.execute(sql`select set_config('role', 'palisade_system', true)`);
    return tx.select({ tenantId: registries.tenantId, id: registries.id }).from(registries).where(lte(registries.nextSyncAt, now.toISOString())).orderBy(registries.nextSyncAt).limit(limit);
  });
  let synced = 0;
  const changedTenants = new Set<string>();
  for (const r of due) {
    const claimed = await inTenant(db, r.tenantId, (tx) =>
      tx
        .update(registries)
        .set({ nextSyncAt: new Date(now.getTime() + 15 * 60_000).toISOString() })
        .where(and(eq(registries.tenantId, r.tenantId), eq(registries.id, r.id), lte(registries.nextSyncAt, now.toISOString())))
        .returning({ id: registries.id }),
    );
    if (claimed.length === 0) continue;
    const result = await syncRegistry(db, r.tenantId, r.id, deps);
    synced++;
    if (result?.changed) changedTenants.add(r.tenantId);
  }
  return { synced, changedTenants: [...changedTenants] };
}
