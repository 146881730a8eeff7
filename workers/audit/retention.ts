import { sql } from 'drizzle-orm';
import type { Db } from '../db/db.ts';
import { DEFAULT_RETENTION_DAYS } from './audit-settings.routes.ts';

/**
 * The retention job: deletes, across all tenants, raw audit events older than each tenant's `audit_retention_days`
 * (90 without a setting), in one statement. Rollups are kept: summaries of older periods stay available.
 *
 * It runs as `palisade_system`, whose policies let it read tenant settings and read and delete audit events, nothing
 * else. The tenants that have events are found by a loose index scan over (tenant_id, time), so each tenant's old
 * events are one index range rather than a scan of the table. Callers schedule it: an hourly timer in workers/node.ts,
 * a cron trigger in workers/worker.ts.
 */
export async function runRetention(db: Db, now: Date): Promise<{ deleted: number }> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select set_config('role', 'palisade_system', true)`);
    const result = (await tx.execute(sql`
      with recursive tenants_with_events(tenant_id) as (
        (select tenant_id from audit_events order by tenant_id limit 1)
        union all
        select (select e.tenant_id from audit_events e where e.tenant_id > t.tenant_id order by e.tenant_id limit 1)
        from tenants_with_events t where t.tenant_id is not null
      ),
      cutoffs as (
        select t.tenant_id, ${now.toISOString()}::timestamptz - make_interval(days => coalesce(s.audit_retention_days, ${DEFAULT_RETENTION_DAYS})) as cutoff
        from tenants_with_events t left join tenant_settings s on s.tenant_id = t.tenant_id
        where t.tenant_id is not null
      ),
      deleted as (
        delete from audit_events e using cutoffs c where e.tenant_id = c.tenant_id and e.time < c.cutoff returning 1
      )
      select count(*)::int as deleted from deleted`)) as unknown as { rows: Array<{ deleted: number }> };
    return { deleted: Number(result.rows[0]?.deleted ?? 0) };
  });
}
