import { and, desc, eq, lt } from 'drizzle-orm';
import type { Right } from '../../schema/rights.ts';
import { webhookDeliveries } from '../../schema/tables/index.ts';
import type { DeliveryStatus, WebhookDelivery } from '../../schema/webhooks.ts';
import type { Tx } from '../db/db.ts';
import type { Page } from '../http/pagination.ts';

/** The delivery log, read in the tenant's transaction (row-level security applies). */
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;

const iso = (v: string | null) => (v === null ? null : new Date(v).toISOString());

/** Event types whose payload holds nothing from the audit log (a test ping names only the endpoint). */
const PUBLIC_EVENT_TYPES: ReadonlySet<string> = new Set(['webhook.test']);

/**
 * A delivery as the API shows it. Its payload is an audit event (workloads, images, namespaces): shown only to those
 * who may read audit events (`audit.view`), as `/v1/audit/events` would; anyone else sees the metadata only.
 */
export function deliveryWire(row: DeliveryRow, rights: ReadonlySet<Right>): WebhookDelivery {
  return {
    id: row.id,
    webhookId: row.webhookId,
    eventType: row.eventType,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.status === 'pending' ? iso(row.nextAttemptAt) : null,
    lastAttemptAt: iso(row.lastAttemptAt),
    lastStatusCode: row.lastStatusCode,
    lastError: row.lastError,
    createdAt: iso(row.createdAt)!,
    deliveredAt: iso(row.deliveredAt),
    ...(PUBLIC_EVENT_TYPES.has(row.eventType) || rights.has('audit.view') ? { payload: row.payload as Record<string, unknown> } : {}),
  };
}

/** Newest first; the cursor is the last id of the previous page (ids sort by creation). */
export async function listDeliveries(tx: Tx, tenantId: string, webhookId: string, page: Page, status?: DeliveryStatus): Promise<{ rows: DeliveryRow[]; more: boolean }> {
  const d = webhookDeliveries;
  const rows = await tx
    .select()
    .from(d)
    .where(and(eq(d.tenantId, tenantId), eq(d.webhookId, webhookId), status ? eq(d.status, status) : undefined, page.after ? lt(d.id, page.after) : undefined))
    .orderBy(desc(d.id))
    .limit(page.limit + 1);
  return { rows: rows.slice(0, page.limit), more: rows.length > page.limit };
}

export async function getDelivery(tx: Tx, tenantId: string, webhookId: string, id: string, lock?: 'update'): Promise<DeliveryRow | undefined> {
  const d = webhookDeliveries;
  const query = tx.select().from(d).where(and(eq(d.tenantId, tenantId), eq(d.webhookId, webhookId), eq(d.id, id)));
  const [row] = await (lock ? query.for('update') : query);
  return row;
}

/** A failed delivery, pending again from `now` with a fresh schedule and the same id (receivers dedupe on it). */
export async function requeueDelivery(tx: Tx, row: DeliveryRow, now: Date): Promise<DeliveryRow> {
  const d = webhookDeliveries;
  const [updated] = await tx
    .update(d)
    .set({ status: 'pending', attempts: 0, nextAttemptAt: now.toISOString() })
    .where(and(eq(d.tenantId, row.tenantId), eq(d.id, row.id)))
    .returning();
  return updated!;
}
