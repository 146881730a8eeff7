import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../app-env.ts';
import type { OnEventsStored, StoredAuditEvent } from '../audit/audit.types.ts';
import { enqueueDeliveries } from './outbox.store.ts';
import { wake, type WebhookSettings } from './webhook-kind.ts';

/**
 * Audit ingest → webhooks. `onStored` runs inside the ingest transaction (the outbox: deliveries commit with their
 * events or not at all); `wakeAfterIngest` wraps the ingest route and tells the dispatcher once the batch has
 * committed, if any delivery was written since it last did (a shared flag: a wake that comes a little early or late
 * costs at most one regular pass of the dispatcher).
 */
export function webhookOutbox(settings: WebhookSettings): { onStored: OnEventsStored; wakeAfterIngest: MiddlewareHandler<AppEnv> } {
  let enqueued = false;
  return {
    async onStored(tx, stored) {
      const groups = new Map<string, StoredAuditEvent[]>();
      for (const s of stored) {
        const key = `${s.tenantId}/${s.clusterId}`;
        groups.set(key, [...(groups.get(key) ?? []), s]);
      }
      for (const group of groups.values()) {
        const { tenantId, clusterId } = group[0]!;
        if ((await enqueueDeliveries(tx, tenantId, clusterId, group.map((s) => s.event))) > 0) enqueued = true;
      }
    },
    async wakeAfterIngest(c, next) {
      await next();
      if (c.res.status < 300 && enqueued) {
        enqueued = false;
        await wake(settings);
      }
    },
  };
}
