import { BUILTIN_ROLES } from '../../schema/rights.ts';
import { apiKeys, roles, scopes, tenants } from '../../schema/tables/index.ts';
import { mintApiKey, type MintedKey } from '../auth/api-keys.crypto.ts';
import { inTenant, type Db } from '../db/db.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { PalisadeError } from '../http/errors.ts';
import { uuidv7 } from '../ids.ts';

export interface ProvisionedTenant {
  tenant: { id: string; name: string };
  apiKey: string;
}

/**
 * Creates a tenant with its built-in roles, the built-in global scope and a first administrator API key, in one
 * transaction that row-level security already confines to the new tenant.
 */
export async function provisionTenant(db: Db, input: { name: string; by: string; adminKey?: MintedKey }): Promise<ProvisionedTenant> {
  const tenantId = uuidv7();
  const key = input.adminKey ?? (await mintApiKey());
  const by = input.by;
  try {
    await inTenant(db, tenantId, async (tx) => {
      await tx.insert(tenants).values({ id: tenantId, name: input.name });
      const roleRows = BUILTIN_ROLES.map((r) => ({
        tenantId,
        id: uuidv7(),
        name: r.name,
        spec: { name: r.name, description: r.description, rights: [...r.rights] },
        rights: [...r.rights],
        builtin: true,
        createdBy: by,
        updatedBy: by,
      }));
      await tx.insert(roles).values(roleRows);
      await tx.insert(scopes).values({
        tenantId,
        id: uuidv7(),
        name: 'global',
        spec: { name: 'global', description: 'Built-in: every cluster and namespace of the tenant', resources: [] },
        global: true,
        createdBy: by,
        updatedBy: by,
      });
      const admin = roleRows.find((r) => r.name === 'administrator')!;
      await tx.insert(apiKeys).values({
        tenantId,
        id: uuidv7(),
        name: 'initial administrator key',
        spec: { name: 'initial administrator key', roleIds: [admin.id] },
        keyHash: key.hash,
        createdBy: by,
        updatedBy: by,
      });
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new PalisadeError('conflict', `a tenant named "${input.name}" already exists`, { cause: err, errors: [{ pointer: '/name', detail: 'already taken' }] });
    throw err;
  }
  return { tenant: { id: tenantId, name: input.name }, apiKey: key.secret };
}
