import { and, eq } from 'drizzle-orm';
import { apiKeys, platformState, roles, tenants } from '../../schema/tables/index.ts';
import { importApiKey } from '../auth/api-keys.crypto.ts';
import { bySecretHash, inTenant, type Db } from '../db/db.ts';
import { uuidv7 } from '../ids.ts';
import { provisionTenant } from './tenants.store.ts';

/**
 * What start-up did about the first tenant and `PALISADE_BOOTSTRAP_KEY`; the caller prints it (never the key itself,
 * except a generated one on first start, once).
 */
export type BootstrapOutcome =
  /** First start: tenant `default` and its first administrator key (`apiKey`: generated, or the chosen key). */
  | { kind: 'created'; tenant: { id: string; name: string }; apiKey: string; chosen: boolean }
  /** Later start, no key set, or the key already works: nothing to do. */
  | { kind: 'unchanged' }
  /** Later start with a key this installation did not know: it is now an administrator key of the first tenant. */
  | { kind: 'key_added'; tenant: { id: string; name: string }; keyName: string }
  /** The key exists but is revoked or expired: a revocation is deliberate and an env var left set must not undo it. */
  | { kind: 'key_unusable'; reason: 'revoked' | 'expired' }
  /** The first tenant is gone (or its administrator role): nowhere to add the key. */
  | { kind: 'no_tenant' };

interface BootstrapState {
  tenantId: string;
  at: string;
}

/**
 * Start-up of the Node server. On the first start: creates tenant `default` with an administrator API key, the value of
 * `PALISADE_BOOTSTRAP_KEY` when set. On later starts a set `PALISADE_BOOTSTRAP_KEY` that no API key has yet becomes a
 * new administrator key of that first tenant, so the documented way in works on an existing data directory too. Safe
 * because whoever sets the server's environment already holds its database (the data directory or `DATABASE_URL`);
 * nothing happens unless the variable is set, and a revoked or expired key is never brought back.
 */
export async function bootstrap(db: Db, chosenKey: string | undefined, now = new Date()): Promise<BootstrapOutcome> {
  const [state] = await db.select().from(platformState).where(eq(platformState.key, 'bootstrap'));
  if (!state) {
    const created = await provisionTenant(db, { name: 'default', by: 'bootstrap', adminKey: chosenKey ? await importApiKey(chosenKey) : undefined });
    await db.insert(platformState).values({ key: 'bootstrap', value: { tenantId: created.tenant.id, at: now.toISOString() } satisfies BootstrapState });
    return { kind: 'created', tenant: created.tenant, apiKey: created.apiKey, chosen: chosenKey !== undefined };
  }
  if (!chosenKey) return { kind: 'unchanged' };
  const key = await importApiKey(chosenKey);
  const [existing] = await bySecretHash(db, key.hash, (tx) => tx.select().from(apiKeys).where(eq(apiKeys.keyHash, key.hash)));
  if (existing) {
    if (existing.revokedAt !== null) return { kind: 'key_unusable', reason: 'revoked' };
    if (existing.expiresAt !== null && Date.parse(existing.expiresAt) <= now.getTime()) return { kind: 'key_unusable', reason: 'expired' };
    return { kind: 'unchanged' };
  }
  const { tenantId } = state.value as BootstrapState;
  return inTenant(db, tenantId, async (tx) => {
    const [tenant] = await tx.select({ id: tenants.id, name: tenants.name }).from(tenants).where(eq(tenants.id, tenantId));
    const [admin] = await tx.select({ id: roles.id }).from(roles).where(and(eq(roles.name, 'administrator'), eq(roles.builtin, true)));
    if (!tenant || !admin) return { kind: 'no_tenant' } as const;
    // Names are unique per tenant; the time tells keys added on different starts apart.
    const keyName = `bootstrap key added ${now.toISOString()}`;
    await tx.insert(apiKeys).values({
      tenantId,
      id: uuidv7(now.getTime()),
      name: keyName,
      spec: { name: keyName, roleIds: [admin.id] },
      keyHash: key.hash,
      createdBy: 'bootstrap',
      updatedBy: 'bootstrap',
    });
    return { kind: 'key_added', tenant, keyName } as const;
  });
}
