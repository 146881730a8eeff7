import { and, eq, gt, inArray, isNull, or, sql } from 'drizzle-orm';
import { RIGHTS, type Right } from '../../schema/rights.ts';
import { apiKeys, roles } from '../../schema/tables/index.ts';
import { grantedRights } from '../auth/authenticate.ts';
import type { Principal } from '../auth/principal.ts';
import type { Tx } from '../db/db.ts';
import { PalisadeError } from '../http/errors.ts';
import type { WriteContext } from '../objects/object-kind.ts';

/**
 * No one hands out, takes away or edits rights they do not hold themselves: whoever changes a key or a role must hold
 * every right it grants before the change (`what: 'change'`) and after it (`'grant'`).
 */
export function refuseEscalation(principal: Principal, rights: Iterable<Right>, what: 'grant' | 'change' = 'grant'): void {
  const missing = [...new Set(rights)].filter((r) => !principal.rights.has(r));
  if (missing.length === 0) return;
  const message = what === 'grant' ? `you cannot grant rights you do not hold: ${missing.join(', ')}` : `you cannot change or remove what grants rights you do not hold: ${missing.join(', ')}`;
  throw new PalisadeError('forbidden', message, { extensions: { missingRights: missing } });
}

/** What the roles grant when used (built-in ones: this release's rights); unknown ids grant nothing. */
export async function rightsOfRoles(tx: Tx, tenantId: string, roleIds: readonly string[]): Promise<Right[]> {
  if (roleIds.length === 0) return [];
  const found = await tx.select({ name: roles.name, builtin: roles.builtin, rights: roles.rights }).from(roles).where(and(eq(roles.tenantId, tenantId), inArray(roles.id, [...roleIds])));
  return found.flatMap(grantedRights);
}

/**
 * Administrators of a tenant: API keys, neither revoked nor expired, whose roles together grant every right. (OIDC
 * principals are not counted: their roles live in the identity provider, which may change them at any time.)
 */
export async function countAdministrators(tx: Tx, tenantId: string): Promise<number> {
  const roleRows = await tx.select({ id: roles.id, name: roles.name, builtin: roles.builtin, rights: roles.rights }).from(roles).where(eq(roles.tenantId, tenantId));
  const granted = new Map(roleRows.map((r) => [r.id, grantedRights(r)]));
  const keys = await tx
    .select({ spec: apiKeys.spec })
    .from(apiKeys)
    .where(and(eq(apiKeys.tenantId, tenantId), isNull(apiKeys.revokedAt), or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, sql`now()`))));
  return keys.filter((k) => {
    const held = new Set(k.spec.roleIds.flatMap((id) => granted.get(id) ?? []));
    return RIGHTS.every((r) => held.has(r));
  }).length;
}

const before = new WeakMap<Tx, number>();

/**
 * Around any change that can take rights away (revoking, deleting or editing keys, editing or deleting roles): `start`
 * serializes such changes per tenant and counts administrators, `finish` refuses the change when it leaves none of
 * them (a tenant that had none, e.g. one run through OIDC, is not held to it).
 */
export const lastAdministrator = {
  async start({ tx, principal }: WriteContext): Promise<void> {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`administrators:${principal.tenantId}`}))`);
    before.set(tx, await countAdministrators(tx, principal.tenantId));
  },
  async finish({ tx, principal }: WriteContext): Promise<void> {
    const had = before.get(tx);
    before.delete(tx);
    if (had === undefined) throw new Error('lastAdministrator.finish without start');
    if (had > 0 && (await countAdministrators(tx, principal.tenantId)) === 0) {
      throw new PalisadeError('conflict', "this would remove the tenant's last administrator (an active API key whose roles grant every right); give another key the administrator role first");
    }
  },
};
