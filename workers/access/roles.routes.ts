import { and, eq } from 'drizzle-orm';
import type { Hono } from 'hono';
import { Role, RoleInput } from '../../schema/access.ts';
import { BUILTIN_ROLES, type Right } from '../../schema/rights.ts';
import { apiKeys, roles } from '../../schema/tables/index.ts';
import type { AppEnv } from '../app-env.ts';
import type { Principal } from '../auth/principal.ts';
import { PalisadeError } from '../http/errors.ts';
import { booleanFilter, nameFilter, specContains } from '../objects/filters.ts';
import type { ObjectKind } from '../objects/object-kind.ts';
import { registerObjectRoutes } from '../objects/objects.routes.ts';

/** No one hands out rights they do not hold themselves. */
export function refuseEscalation(principal: Principal, rights: Iterable<Right>): void {
  const missing = [...new Set(rights)].filter((r) => !principal.rights.has(r));
  if (missing.length > 0) throw new PalisadeError('forbidden', `you cannot grant rights you do not hold: ${missing.join(', ')}`, { extensions: { missingRights: missing } });
}

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
  beforeWrite: async ({ principal }, spec) => refuseEscalation(principal, spec.rights),
  beforeDelete: async ({ tx, principal }, row) => {
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
