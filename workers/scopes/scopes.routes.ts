import type { Hono } from 'hono';
import { Scope, ScopeInput, scopeCoversWorkloads } from '../../schema/scopes.ts';
import { scopes } from '../../schema/tables/index.ts';
import type { AppEnv } from '../app-env.ts';
import type { ObjectKind } from '../objects/object-kind.ts';
import { nameFilter } from '../objects/filters.ts';
import { registerObjectRoutes } from '../objects/objects.routes.ts';
import { refuseIfReferenced } from '../policies/policy-references.ts';
import { recomputeForScope, refuseIfScopeUsedByAssurance } from '../assurance/assurance-policies.routes.ts';

export const scopeKind: ObjectKind<typeof ScopeInput> = {
  noun: 'scope',
  path: '/v1/scopes',
  table: scopes,
  input: ScopeInput,
  output: Scope,
  feedsBundles: true,
  rights: { view: 'scopes.view', manage: 'scopes.manage' },
  filters: { name: nameFilter(scopes) },
  wireExtras: (row) => ({ global: row.global === true }),
  hidden: (principal, row) => row.global === true && !principal.rights.has('scopes.viewGlobal'),
  readOnly: (row) => (row.global === true ? 'the built-in global scope cannot be changed or deleted' : undefined),
  beforeDelete: async (ctx, row) => {
    await refuseIfReferenced(ctx, 'scope', row);
    await refuseIfScopeUsedByAssurance(ctx, row);
  },
  // A scope that runtime policies use must keep naming clusters or namespaces; one assurance policies use, registries.
  beforeWrite: async (ctx, spec, previous) => {
    if (previous && !scopeCoversWorkloads(spec)) await refuseIfReferenced(ctx, 'scope', previous);
    if (previous && !spec.resources.some((r) => r.type === 'registry')) await refuseIfScopeUsedByAssurance(ctx, previous);
  },
  // Registry resources select the images assurance policies judge.
  afterWrite: (ctx, row) => recomputeForScope(ctx, row.id),
};

export const registerScopeRoutes = (app: Hono<AppEnv>) => registerObjectRoutes(app, scopeKind);
