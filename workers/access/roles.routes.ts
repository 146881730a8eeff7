import { and, eq } from 'drizzle-orm';
import type { Hono } from 'hono';
import { Role, RoleInput } from '../../schema/access.ts';
import { BUILTIN_ROLES, type Right } from '../../schema/rights.ts';
import { apiKeys, roles } from '../../schema/tables/index.ts';
import type { AppEnv } from '../app-env.ts';
import { grantedRights } from '../auth/authenticate.ts';
import { PalisadeError } from '../http/errors.ts';
import { booleanFilter, nameFilter, specContains } from '../objects/filters.ts';
import type { ObjectKind, ObjectRow } from '../objects/object-kind.ts';
import { registerObjectRoutes } from '../objects/objects.routes.ts';
import { lastAdministrator, refuseEscalation } from './guards.ts';

export { refuseEscalation } from './guards.ts';

const rightsOf = (row: ObjectRow<RoleInput>) => grantedRights({ name: row.name, builtin: row.builtin === true, rights: (row.rights as Right[] | undefined) ?? row.spec.rights });

export const roleKind: ObjectKind<typeof RoleInput> = {
  noun: 'role',
  path: '/v1/roles',
  table: roles,
  input: RoleInput,
  output: Role,
  rights: { view: 'roles.view', manage: 'roles.manage' },
  columns: (spec) => ({ rights: [...new Set(spec.rights)] }),
  // Built-in roles show (and grant, see authenticate.ts) the rights of this release.
  wireExtras: (row) => ({ builtin: row.builtin === true, ...(row.builtin ? { rights: BUILTIN_ROLES.find((r) => r.name === row.name)?.rights ?? row.spec.rights } : {}) }),
  filters: { name: nameFilter(roles), builtin: booleanFilter('builtin', roles.builtin) },
  readOnly: (row) => (row.builtin === true ? `the built-in role "${row.name}" cannot be changed or deleted` : undefined),
  // Rewriting a role changes what every key holding it may do: the editor must hold what it grants before and after.
  beforeWrite: async (ctx, spec, previous) => {
    if (previous) refuseEscalation(ctx.principal, rightsOf(previous), 'change');
    refuseEscalation(ctx.principal, spec.rights);
    if (previous) await lastAdministrator.start(ctx);
  },
  afterWrite: async (ctx, _row, previous) => {
    if (previous) await lastAdministrator.finish(ctx);
  },
  beforeDelete: async ({ tx, principal }, row) => {
    refuseEscalation(principal, rightsOf(row), 'change');
    const users = await tx
      .select({ id: apiKeys.id, name: apiKeys.name })
      .from(apiKeys)
      .where(and(eq(apiKeys.tenantId, principal.tenantId), specContains(apiKeys as never, { roleIds: [row.id] })));
    if (users.length > 0) {
      throw new PalisadeError('in_use', `role "${row.name}" is held by ${users.length} API key(s): ${users.map((u) => u.name).join(', ')}`, { extensions: { apiKeys: users } });
    }
  },
};

export const registerRoleRoutes = (app: Hono<AppEnv>) => registerObjectRoutes(app, roleKind);
