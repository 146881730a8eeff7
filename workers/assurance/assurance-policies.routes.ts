import { and, eq, inArray } from 'drizzle-orm';
import type { Hono } from 'hono';
import { AssurancePolicy, AssurancePolicyInput, type AssurancePolicySpec } from '../../schema/assurance-policies.ts';
import type { FieldError } from '../../schema/problem.ts';
import type { ScopeInput } from '../../schema/scopes.ts';
import { assurancePolicies, scopes } from '../../schema/tables/index.ts';
import type { AppEnv } from '../app-env.ts';
import { PalisadeError } from '../http/errors.ts';
import { booleanFilter, nameFilter, specContains, uuidParameter } from '../objects/filters.ts';
import type { ObjectKind, ObjectRow, WriteContext } from '../objects/object-kind.ts';
import { registerObjectRoutes } from '../objects/objects.routes.ts';
import { requireGlobalScopeRight } from '../policies/policy-checks.ts';
import { recomputeCompliance } from './compliance.store.ts';

/** Whether a scope can serve an assurance policy: it selects images by registry, or is the global scope. */
export const scopeSelectsImages = (scope: { global: boolean; spec: Pick<ScopeInput, 'resources'> }) => scope.global || scope.spec.resources.some((r) => r.type === 'registry');

async function checkScopes({ tx, principal }: WriteContext, spec: AssurancePolicySpec): Promise<void> {
  const ids = [...new Set(spec.scopeIds)];
  const rows = await tx.select({ id: scopes.id, global: scopes.global, spec: scopes.spec }).from(scopes).where(and(eq(scopes.tenantId, principal.tenantId), inArray(scopes.id, ids))).for('share');
  const byId = new Map(rows.map((r) => [r.id, r]));
  const errors: FieldError[] = [];
  spec.scopeIds.forEach((id, i) => {
    const scope = byId.get(id);
    if (!scope) errors.push({ pointer: `/scopeIds/${i}`, detail: `no scope ${id}` });
    else if (!scopeSelectsImages(scope)) errors.push({ pointer: `/scopeIds/${i}`, detail: 'this scope names only clusters or namespaces; an assurance policy selects images by registry resources (or the global scope)' });
  });
  if (errors.length > 0) throw new PalisadeError('unprocessable_references', 'the policy references scopes that do not exist or cannot be used', { errors });
  if (rows.some((r) => r.global)) requireGlobalScopeRight(principal);
}

/** Every image's verdict may change with a policy: recompute them all (only the changed ones are written). */
const recomputeAll = (ctx: WriteContext, now = new Date()) => recomputeCompliance(ctx.tx, ctx.principal.tenantId, now).then(() => undefined);

/** 409 naming the assurance policies that use a scope, for the scope's delete (and edits that drop its registries). */
export async function refuseIfScopeUsedByAssurance({ tx, principal }: WriteContext, row: ObjectRow): Promise<void> {
  const users = await tx
    .select({ id: assurancePolicies.id, name: assurancePolicies.name })
    .from(assurancePolicies)
    .where(and(eq(assurancePolicies.tenantId, principal.tenantId), specContains(assurancePolicies, { scopeIds: [row.id] })));
  if (users.length > 0) {
    throw new PalisadeError('in_use', `scope "${row.name}" is used by ${users.length} assurance ${users.length === 1 ? 'policy' : 'policies'}: ${users.map((u) => u.name).join(', ')}`, {
      extensions: { policies: users },
    });
  }
}

/** After a scope changed: its registry resources select images for the assurance policies that use it. */
export async function recomputeForScope(ctx: WriteContext, scopeId: string): Promise<void> {
  const [user] = await ctx.tx
    .select({ id: assurancePolicies.id })
    .from(assurancePolicies)
    .where(and(eq(assurancePolicies.tenantId, ctx.principal.tenantId), specContains(assurancePolicies, { scopeIds: [scopeId] })))
    .limit(1);
  if (user) await recomputeAll(ctx);
}

/**
 * Image assurance policies: the rules that decide an image's compliance from its scan findings. Managed with the
 * images rights (they decide what the inventory says). A change recomputes every image of the tenant in the same
 * transaction and marks the bundles stale.
 */
export const assurancePolicyKind: ObjectKind<typeof AssurancePolicyInput> = {
  noun: 'assurance policy',
  path: '/v1/assurance-policies',
  table: assurancePolicies,
  input: AssurancePolicyInput,
  output: AssurancePolicy,
  feedsBundles: true,
  rights: { view: 'images.view', manage: 'images.manage' },
  columns: (spec) => ({ enabled: spec.enabled }),
  filters: {
    name: nameFilter(assurancePolicies),
    enabled: booleanFilter('enabled', assurancePolicies.enabled),
    scopeId: (id) => specContains(assurancePolicies, { scopeIds: [uuidParameter('scopeId', id)] }),
  },
  beforeWrite: (ctx, spec) => checkScopes(ctx, spec),
  afterWrite: (ctx) => recomputeAll(ctx),
  afterDelete: (ctx) => recomputeAll(ctx),
};

/** The routes, with the app's clock for the recompute (scan age and allow-list expiry are judged against it). */
export function registerAssurancePolicyRoutes(app: Hono<AppEnv>, deps: { now: () => Date }): void {
  registerObjectRoutes(app, {
    ...assurancePolicyKind,
    afterWrite: (ctx) => recomputeAll(ctx, deps.now()),
    afterDelete: (ctx) => recomputeAll(ctx, deps.now()),
  });
}
