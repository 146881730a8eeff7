import type { Hono } from 'hono';
import { and, eq } from 'drizzle-orm';
import { Registry, RegistryInput } from '../../schema/registries.ts';
import { images, registries } from '../../schema/tables/index.ts';
import { PalisadeError, notFound } from '../http/errors.ts';
import type { AppEnv } from '../app-env.ts';
import { requireRight } from '../auth/principal.ts';

import type { ObjectKind } from '../objects/object-kind.ts';
import { nameFilter, specContains, UUID_PATTERN } from '../objects/filters.ts';
import { registerObjectRoutes } from '../objects/objects.routes.ts';
import { refuseIfReferenced } from '../policies/policy-references.ts';
import { urlProblem } from '../webhooks/ssrf.ts';
import { sealCredentials } from './credentials.ts';
import { registryEndpoint, syncRegistry, type SyncDeps } from './sync.ts';

/** The kind's table and rights, for other kinds that reference registries (images). */
export const registryKind: ObjectKind<typeof RegistryInput> = {
  noun: 'registry',
  path: '/v1/registries',
  table: registries,
  input: RegistryInput,
  output: Registry,
  feedsBundles: true,
  rights: { view: 'registries.view', manage: 'registries.manage' },
  filters: { name: nameFilter(registries), url: (url) => specContains(registries, { url }) },
};

export interface RegistryRouteDeps extends SyncDeps {}

/** Sealed credentials (or null to clear) decided in beforeWrite, for `columns` on the same document. */
const pending = new WeakMap<object, string | null>();

/**
 * Registries with write-only credentials (sealed with the credentials key, never returned: the wire says only
 * `credentialsSet`) and a sync setting. The URL passes the SSRF guard's static checks when written; every request of
 * a sync passes the full guard.
 */
export function registryKindWith(deps: RegistryRouteDeps): ObjectKind<typeof RegistryInput> {
  return {
    ...registryKind,
    columns: (spec) => ({
      ...(pending.has(spec) ? { credentials: pending.get(spec) } : {}),
      // A registry that syncs is due at once after a change (the next pass picks it up); one that does not, never.
      nextSyncAt: spec.sync?.enabled ? deps.now().toISOString() : null,
    }),
    wireExtras: (row) => ({
      credentialsSet: row.credentials != null,
      ...(row.syncStatus ? { syncStatus: row.syncStatus } : {}),
      ...(row.nextSyncAt ? { nextSyncAt: new Date(row.nextSyncAt as string).toISOString() } : {}),
    }),
    beforeWrite: async ({ principal }, spec) => {
      // Only a registry that syncs is ever contacted; others are prefixes for policies, wherever they are.
      const problem = spec.sync?.enabled && urlProblem(registryEndpoint(spec.url, deps.allowLoopback).base, { allowLoopback: deps.allowLoopback });
      if (problem) throw new PalisadeError('validation_failed', 'the request body has invalid fields', { errors: [{ pointer: '/url', detail: problem }] });
      if (spec.credentials !== undefined) {
        if (spec.credentials !== null && !deps.credentialsKey) {
          throw new PalisadeError('validation_failed', 'the request body has invalid fields', { errors: [{ pointer: '/credentials', detail: 'this server has no registry credentials key (PALISADE_REGISTRY_CREDENTIALS_KEY); credentials cannot be stored' }] });
        }
        pending.set(spec, spec.credentials === null ? null : await sealCredentials(deps.credentialsKey!, principal.tenantId, spec.credentials));
      }
      delete spec.credentials;
    },
    // Policies may name the registry in registriesAllowed ({ registryId }): it stays while they do.
    beforeDelete: async (ctx, row) => {
      await refuseIfReferenced(ctx, 'registry', row);
      const { tx, principal } = ctx;
      const users = await tx
        .select({ id: images.id, name: images.name })
        .from(images)
        .where(and(eq(images.tenantId, principal.tenantId), specContains(images as never, { registryId: row.id })))
        .limit(20);
      if (users.length > 0) {
        throw new PalisadeError('in_use', `registry "${row.name}" holds registered images: ${users.map((u) => u.name).join(', ')}`, { extensions: { images: users } });
      }
    },
  };
}

export function registerRegistryRoutes(app: Hono<AppEnv>, deps: RegistryRouteDeps): void {
  registerObjectRoutes(app, registryKindWith(deps));

  /** Syncs now and answers the status (the same run the schedule makes). */
  app.post('/v1/registries/:id/sync', requireRight('registries.manage'), async (c) => {
    const principal = c.get('principal');
    const id = c.req.param('id');
    const result = UUID_PATTERN.test(id) ? await syncRegistry(c.get('db'), principal.tenantId, id, deps) : undefined;
    if (!result) throw notFound(`registry ${id}`);
    if (result.changed) c.get('changes').tenantChanged(principal.tenantId);
    return c.json(result.status);
  });
}

