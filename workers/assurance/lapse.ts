import { lte, sql } from 'drizzle-orm';
import { images } from '../../schema/tables/index.ts';
import { markTenantBundlesStale } from '../bundles/bundle.store.ts';
import { inTenant, type Db } from '../db/db.ts';
import { recomputeCompliance } from './compliance.store.ts';

/**
 * Time changes compliance on its own: a scan reaches its maximum age, an allow-list entry expires. Each compliant
 * verdict that depends on time carries `compliantUntil`; this job (hourly, beside retention: a Node timer, the Workers
 * retention cron) finds the tenants with verdicts past it (as palisade_system, which may only read images across
 * tenants), recomputes those images in each tenant's transaction and marks its bundles stale. Between runs the
 * bundles are already right: they carry `compliantUntil`, and the agent treats a lapsed verdict as non-compliant.
 */
export async function recomputeLapsedCompliance(db: Db, now: Date): Promise<{ changed: number; tenants: string[] }> {
  const due = await db.transaction(async (tx) => {
    await tx.execute(sql`select set_config('role', 'palisade_system', true)`);
    return tx.selectDistinct({ tenantId: images.tenantId }).from(images).where(lte(images.compliantUntil, now.toISOString()));
  });
  let changed = 0;
  const tenants: string[] = [];
  for (const { tenantId } of due) {
    const n = await inTenant(db, tenantId, async (tx) => {
      const count = await recomputeCompliance(tx, tenantId, now, { lapsed: true });
      if (count > 0) await markTenantBundlesStale(tx, tenantId);
      return count;
    });
    changed += n;
    if (n > 0) tenants.push(tenantId);
  }
  return { changed, tenants };
}
