import { and, eq } from 'drizzle-orm';
import { SEVERITY_RANK, type AuditEventV1 } from '../../schema/audit-event.ts';
import { webhookDeliveries, webhooks } from '../../schema/tables/index.ts';
import type { AuditEventPayload, PingPayload, WebhookFilters, WebhookInput } from '../../schema/webhooks.ts';
import { policyIdsOf } from '../audit/audit-rollup.ts';
import type { Tx } from '../db/db.ts';
import { uuidv7 } from '../ids.ts';

/**
 * The outbox. Deliveries are written in the transaction that stores what they carry (audit ingest calls
 * `enqueueDeliveries` in its own transaction), so an event is delivered if and only if it was stored. The
 * dispatcher (dispatcher.ts) sends from here.
 */

/** A delivery id, which is the `webhook-id` header: `msg_` + a UUIDv7 without dashes, so ids sort by creation. */
export const newDeliveryId = () => `msg_${uuidv7().replaceAll('-', '')}`;
export const DELIVERY_ID = /^msg_[0-9a-f]{32}$/;

const none = (list: readonly unknown[] | undefined) => list === undefined || list.length === 0;

/** Whether an event from `clusterId` passes an endpoint's filters; each filter given must match. */
export function matchesFilters(filters: WebhookFilters, clusterId: string, event: AuditEventV1): boolean {
  if (!none(filters.kinds) && !filters.kinds!.includes(event.kind)) return false;
  if (!none(filters.verdicts) && !filters.verdicts!.includes(event.verdict)) return false;
  if (filters.minSeverity && SEVERITY_RANK[event.severity] < SEVERITY_RANK[filters.minSeverity]) return false;
  if (!none(filters.policyIds) && !policyIdsOf(event).some((id) => filters.policyIds!.includes(id.toLowerCase()))) return false;
  if (!none(filters.clusterIds) && !filters.clusterIds!.includes(clusterId.toLowerCase())) return false;
  return true;
}

type NewDelivery = typeof webhookDeliveries.$inferInsert;
const CHUNK = 500;

async function insertDeliveries(tx: Tx, rows: NewDelivery[]): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) await tx.insert(webhookDeliveries).values(rows.slice(i, i + CHUNK));
}

/**
 * One delivery per stored event and enabled endpoint of the tenant whose filters it passes. Runs inside the caller's
 * tenant transaction (row-level security applies); answers how many deliveries it wrote.
 */
export async function enqueueDeliveries(tx: Tx, tenantId: string, clusterId: string, storedEvents: readonly AuditEventV1[]): Promise<number> {
  if (storedEvents.length === 0) return 0;
  const endpoints = await tx
    .select({ id: webhooks.id, spec: webhooks.spec })
    .from(webhooks)
    .where(and(eq(webhooks.tenantId, tenantId), eq(webhooks.enabled, true)));
  const rows: NewDelivery[] = [];
  for (const event of storedEvents) {
    for (const endpoint of endpoints) {
      const filters = (endpoint.spec as WebhookInput).filters ?? {};
      if (!matchesFilters(filters, clusterId, event)) continue;
      const payload: AuditEventPayload = { type: 'audit.event', timestamp: event.time, data: { clusterId, event } };
      rows.push({ tenantId, id: newDeliveryId(), webhookId: endpoint.id, eventType: payload.type, payload });
    }
  }
  await insertDeliveries(tx, rows);
  return rows.length;
}

/** A `webhook.test` delivery to one endpoint, due at once. */
export async function enqueuePing(tx: Tx, tenantId: string, webhookId: string, now: Date): Promise<string> {
  const payload: PingPayload = { type: 'webhook.test', timestamp: now.toISOString(), data: { webhookId } };
  const id = newDeliveryId();
  await insertDeliveries(tx, [{ tenantId, id, webhookId, eventType: payload.type, payload, nextAttemptAt: now.toISOString() }]);
  return id;
}
