import { sql } from 'drizzle-orm';
import type { Hono } from 'hono';
import { exclusionProblems, PolicyMode, RuntimePolicy, RuntimePolicyInput, type RuntimePolicySpec } from '../../schema/runtime-policies.ts';
import { runtimePolicies } from '../../schema/tables/index.ts';
import type { AppEnv } from '../app-env.ts';
import { requireRight } from '../auth/principal.ts';
import { inTenant } from '../db/db.ts';
import { notFound, PalisadeError } from '../http/errors.ts';
import { encodeCursor, parsePage } from '../http/pagination.ts';
import { booleanFilter, enumFilter, nameFilter, specContains, UUID_PATTERN, uuidParameter } from '../objects/filters.ts';
import type { ObjectKind, ObjectRow, WriteContext } from '../objects/object-kind.ts';
import { registerObjectRoutes } from '../objects/objects.routes.ts';
import { onGlobalScopeSql, requireGlobalScopeRight } from './policy-checks.ts';
import { writeRuntimePolicy } from './policy-write.ts';
import { listRevisions, recordRevision } from './revisions.store.ts';
import { gapsOf, policyGapsSql } from '../agents/policy-gaps.ts';

async function usesGlobalScope(ctx: WriteContext, row: ObjectRow<RuntimePolicySpec>): Promise<boolean> {
  const result = (await ctx.tx.execute(sql`select ${onGlobalScopeSql(ctx.principal.tenantId, row.spec.scopeIds)} as global`)) as unknown as { rows: Array<{ global: boolean }> };
  return result.rows[0]!.global;
}

export const runtimePolicyKind: ObjectKind<typeof RuntimePolicyInput> = {
  noun: 'runtime policy',
  path: '/v1/runtime-policies',
  table: runtimePolicies,
  input: RuntimePolicyInput,
  output: RuntimePolicy,
  feedsBundles: true,
  rights: { view: 'runtimePolicies.view', manage: 'runtimePolicies.manage' },
  columns: (spec) => ({ enabled: spec.enabled, mode: spec.mode }),
  wireExtras: (row) => ({ revision: row.version }),
  // The clusters whose live agents do not enforce a section this policy enables: never a silent gap. Read with the
  // rows: their scopes, and the tenant's clusters with what their live agents report.
  extras: {
    sql: (principal, rows, now) => policyGapsSql(principal.tenantId, rows, now),
    of: (_principal, rows, value) => {
      const gaps = gapsOf(rows, value);
      return new Map(rows.map((r) => [r.id, { enforcement: { notEnforcedIn: gaps.get(r.id) ?? [] } }]));
    },
  },
  filters: {
    name: nameFilter(runtimePolicies),
    enabled: booleanFilter('enabled', runtimePolicies.enabled),
    mode: enumFilter('mode', runtimePolicies.mode, PolicyMode.options),
    scopeId: (id) => specContains(runtimePolicies, { scopeIds: [uuidParameter('scopeId', id)] }),
    profileId: (id) => specContains(runtimePolicies, { containerRuntimeProfiles: { mappings: [{ profileIds: [uuidParameter('profileId', id)] }] } }),
    validatorId: (id) => specContains(runtimePolicies, { imageContentProtection: { rules: [{ validatorId: uuidParameter('validatorId', id) }] } }),
  },
  // Checks, row, references, revision, stale mark and notEnforcedIn: one statement (policy-write.ts).
  write: (ctx, spec, previous, stale) => {
    const unqualified = exclusionProblems(spec);
    if (unqualified.length > 0) throw new PalisadeError('validation_failed', 'the policy has exclusions that must be namespace-qualified', { errors: unqualified });
    return writeRuntimePolicy(ctx, runtimePolicyKind, spec, previous, stale, new Date());
  },
  beforeDelete: async (ctx, row) => {
    if (await usesGlobalScope(ctx, row)) requireGlobalScopeRight(ctx.principal);
  },
  afterDelete: (ctx, row) =>
    recordRevision(ctx.tx, { tenantId: row.tenantId, policyId: row.id, revision: row.version + 1, action: 'delete', document: row.spec, by: ctx.principal.subject }),
};

export function registerRuntimePolicyRoutes(app: Hono<AppEnv>): void {
  registerObjectRoutes(app, runtimePolicyKind);

  /** Who changed what and when; kept after the policy is deleted. */
  app.get(`${runtimePolicyKind.path}/:id/revisions`, requireRight('runtimePolicies.view'), async (c) => {
    const principal = c.get('principal');
    const id = c.req.param('id');
    // Revisions are Postgres integers: a cursor of more digits than they can hold is no cursor of ours.
    const page = parsePage(c.req.query(), /^(?:0|[1-9]\d{0,8})$/);
    const { rows, more } = UUID_PATTERN.test(id)
      ? await inTenant(c.get('db'), principal.tenantId, (tx) => listRevisions(tx, principal.tenantId, id, { ...page, afterRevision: page.after ? Number(page.after) : undefined }))
      : { rows: [], more: false };
    if (rows.length === 0 && !page.after) throw notFound(`runtime policy ${id}`);
    const last = rows.at(-1);
    return c.json({
      items: rows.map((r) => ({ revision: r.revision, action: r.action, changedAt: new Date(r.changedAt).toISOString(), changedBy: r.changedBy, changes: r.changes, document: r.document })),
      ...(more && last ? { nextCursor: encodeCursor(String(last.revision)) } : {}),
    });
  });
}
