import { sql } from 'drizzle-orm';
import type { Db } from '../db/db.ts';
import { asSystem } from './dispatch.store.ts';

/** How long delivered and failed deliveries stay in the log, unless AppConfig.webhooks.deliveryRetentionDays says otherwise. */
export const DEFAULT_DELIVERY_RETENTION_DAYS = 30;

/** A retention in days, or an error: it must be a whole number of days, at least one (0 would empty the log). */
export function deliveryRetentionDays(value: unknown): number {
  if (value === undefined) return DEFAULT_DELIVERY_RETENTION_DAYS;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new RangeError(`the webhook delivery retention must be a whole number of days, at least 1 (got ${String(value)})`);
  return value;
}

/**
 * Delivery-log retention: deletes, across all tenants, delivered and failed deliveries whose last activity (delivery,
 * else last attempt, else creation) is older than `days`, in one statement over a partial index of finished
 * deliveries. Pending ones are never deleted, however old: they are still owed to their receiver. A failed delivery
 * sent again by hand is pending again and stays.
 *
 * It runs as `palisade_system` (its policy on webhook_deliveries), scheduled beside audit retention: an hourly timer in
 * workers/node.ts, the retention cron in workers/worker.ts.
 */
export async function pruneDeliveries(db: Db, now: Date, days: number = DEFAULT_DELIVERY_RETENTION_DAYS): Promise<{ deleted: number }> {
  const cutoff = new Date(now.getTime() - deliveryRetentionDays(days) * 86_400_000).toISOString();
  return asSystem(db, async (tx) => {
    const result = (await tx.execute(sql`
      with deleted as (
        delete from webhook_deliveries
        where status <> 'pending' and coalesce(delivered_at, last_attempt_at, created_at) < ${cutoff}::timestamptz
        returning 1
      )
      select count(*)::int as deleted from deleted`)) as unknown as { rows: Array<{ deleted: number }> };
    return { deleted: Number(result.rows[0]?.deleted ?? 0) };
  });
}
