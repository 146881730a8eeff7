import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Hono } from 'hono';
import { ApiKey, ApiKeyInput } from '../../schema/access.ts';
import { apiKeys, roles } from '../../schema/tables/index.ts';
import type { AppEnv } from '../app-env.ts';
import { mintApiKey } from '../auth/api-keys.crypto.ts';
import { grantedRights } from '../auth/authenticate.ts';
import { requireRight } from '../auth/principal.ts';
import { inTenant } from '../db/db.ts';
import { readJson, validate } from '../http/body.ts';
import { etagOf } from '../http/etag.ts';
import { notFound, PalisadeError } from '../http/errors.ts';
import { nameFilter, UUID_PATTERN } from '../objects/filters.ts';
import type { ObjectKind, ObjectRow, WriteContext } from '../objects/object-kind.ts';
import { registerObjectRoutes, toWire } from '../objects/objects.routes.ts';
import { getObject, insertObject } from '../objects/objects.store.ts';
import { lastAdministrator, refuseEscalation, rightsOfRoles } from './guards.ts';

const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).toISOString());

async function checkRoles({ tx, principal }: WriteContext, roleIds: string[]): Promise<void> {
  const found = await tx.select({ id: roles.id, name: roles.name, builtin: roles.builtin, rights: roles.rights }).from(roles).where(and(eq(roles.tenantId, principal.tenantId), inArray(roles.id, roleIds)));
  const known = new Set(found.map((r) => r.id));
  const errors = roleIds.flatMap((id, i) => (known.has(id) ? [] : [{ pointer: `/roleIds/${i}`, detail: `no role ${id}` }]));
  if (errors.length > 0) throw new PalisadeError('unprocessable_references', 'unknown roles', { errors });
  // What the roles grant when the key is used (built-in ones: this release's rights), not what is stored.
  refuseEscalation(principal, found.flatMap(grantedRights));
}

/** A new or changed expiry must lie ahead; an unchanged one may have passed (the key ran out, it can still be renamed). */
function checkExpiry(spec: ApiKeyInput, previous?: ObjectRow<ApiKeyInput>): void {
  if (spec.expiresAt === undefined || spec.expiresAt === previous?.spec.expiresAt) return;
  if (Date.parse(spec.expiresAt) <= Date.now()) {
    throw new PalisadeError('validation_failed', 'the request body has invalid fields', { errors: [{ pointer: '/expiresAt', detail: 'must lie in the future' }] });
  }
}

export const apiKeyKind: ObjectKind<typeof ApiKeyInput> = {
  noun: 'API key',
  path: '/v1/api-keys',
  table: apiKeys,
  input: ApiKeyInput,
  output: ApiKey,
  rights: { view: 'apiKeys.view', manage: 'apiKeys.manage' },
  customCreate: true,
  // Postgres gets the instant, not the text: it refuses offsets beyond ±15:59, which ISO 8601 allows.
  columns: (spec) => ({ expiresAt: spec.expiresAt === undefined ? null : sql`to_timestamp(${Date.parse(spec.expiresAt) / 1000})` }),
  wireExtras: (row) => ({ lastUsedAt: iso(row.lastUsedAt), revokedAt: iso(row.revokedAt) }),
  filters: { name: nameFilter(apiKeys) },
  // Whoever edits, revokes or deletes a key must hold every right it grants (before and after), and no change may leave
  // the tenant without an administrator.
  beforeWrite: async (ctx, spec, previous) => {
    if (previous) refuseEscalation(ctx.principal, await rightsOfRoles(ctx.tx, ctx.principal.tenantId, previous.spec.roleIds), 'change');
    checkExpiry(spec, previous);
    await checkRoles(ctx, spec.roleIds);
    if (previous) await lastAdministrator.start(ctx);
  },
  afterWrite: async (ctx, _row, previous) => {
    if (previous) await lastAdministrator.finish(ctx);
  },
  beforeDelete: async (ctx, row) => {
    refuseEscalation(ctx.principal, await rightsOfRoles(ctx.tx, ctx.principal.tenantId, row.spec.roleIds), 'change');
    await lastAdministrator.start(ctx);
  },
  afterDelete: (ctx) => lastAdministrator.finish(ctx),
};

export function registerApiKeyRoutes(app: Hono<AppEnv>): void {
  app.post(apiKeyKind.path, requireRight('apiKeys.manage'), async (c) => {
    const principal = c.get('principal');
    const spec = await validate(ApiKeyInput, await readJson(c));
    checkExpiry(spec);
    const key = await mintApiKey();
    const row = await inTenant(c.get('db'), principal.tenantId, async (tx) => {
      await checkRoles({ tx, principal }, spec.roleIds);
      return insertObject(tx, apiKeyKind, spec, principal, { keyHash: key.hash });
    });
    c.header('ETag', etagOf(row.version));
    c.header('Location', `${apiKeyKind.path}/${row.id}`);
    return c.json({ apiKey: toWire(apiKeyKind, row), secret: key.secret }, 201);
  });

  /** Revoking keeps the key's record (who had it, when it was last used) but it authenticates no more. */
  app.post(`${apiKeyKind.path}/:id/revoke`, requireRight('apiKeys.manage'), async (c) => {
    const principal = c.get('principal');
    const id = c.req.param('id');
    const row = await inTenant(c.get('db'), principal.tenantId, async (tx) => {
      const existing = UUID_PATTERN.test(id) ? await getObject(tx, principal.tenantId, apiKeyKind, id, 'update') : undefined;
      if (!existing) throw notFound(`API key ${id}`);
      const ctx = { tx, principal };
      refuseEscalation(principal, await rightsOfRoles(tx, principal.tenantId, (existing.spec as ApiKeyInput).roleIds), 'change');
      await lastAdministrator.start(ctx);
      const [updated] = await tx
        .update(apiKeys)
        .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, now())`, version: existing.version + 1, updatedAt: sql`now()`, updatedBy: principal.subject })
        .where(and(eq(apiKeys.tenantId, principal.tenantId), eq(apiKeys.id, id)))
        .returning();
      await lastAdministrator.finish(ctx);
      return updated!;
    });
    c.header('ETag', etagOf(row.version));
    return c.json(toWire(apiKeyKind, row as never));
  });

  registerObjectRoutes(app, apiKeyKind);
}
