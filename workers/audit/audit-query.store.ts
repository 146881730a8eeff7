import { and, desc, eq, sql } from 'drizzle-orm';
import type { AuditEventV1 } from '../../schema/audit-event.ts';
import { auditEvents as e } from '../../schema/tables/index.ts';
import type { Tx } from '../db/db.ts';
import { filterConditions, type AuditFilters, type FilterColumns } from './audit-filters.ts';

/** A stored event as the API answers it: the agent's event plus the cluster its credential named and when it arrived. */
export type AuditEventRecord = AuditEventV1 & { clusterId: string; receivedAt: string };

/** A position in the list, newest first: the time and id of the last event of the previous page. */
export interface EventCursor {
  time: string;
  id: string;
}

export const CURSOR_KEY = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const cursorKey = (event: AuditEventV1) => `${event.time}|${event.id}`;
export const parseCursorKey = (key: string): EventCursor => {
  const [time, id] = key.split('|') as [string, string];
  return { time, id };
};

const EVENT_COLUMNS: FilterColumns = {
  time: e.time,
  clusterId: e.clusterId,
  namespace: e.namespace,
  policyId: e.policyId,
  // An event about several policies has no policy_id: its checks name them.
  policyMatch: (id) => sql`(${e.policyId} = ${id}::uuid or ${e.event}->'checks' @> ${JSON.stringify([{ policy: { id } }])}::jsonb)`,
  check: (check) => sql`${e.checkIds} @> array[${check}]::text[]`,
  verdict: e.verdict,
  severity: e.severity,
  kind: e.kind,
  image: e.image,
};

/** Raw events on the filters, newest first (time, then id), `limit + 1` of them to tell whether more follow. */
export async function listEvents(tx: Tx, tenantId: string, filters: AuditFilters, page: { limit: number; after?: EventCursor }) {
  const where = and(
    eq(e.tenantId, tenantId),
    filterConditions(filters, EVENT_COLUMNS),
    page.after ? sql`(${e.time}, ${e.id}) < (${page.after.time}::timestamptz, ${page.after.id}::uuid)` : undefined,
  );
  const rows = await tx
    .select({ event: e.event, clusterId: e.clusterId, receivedAt: e.receivedAt })
    .from(e)
    .where(where)
    .orderBy(desc(e.time), desc(e.id))
    .limit(page.limit + 1);
  const items: AuditEventRecord[] = rows.slice(0, page.limit).map((r) => ({ ...r.event, clusterId: r.clusterId, receivedAt: new Date(r.receivedAt).toISOString() }));
  return { items, more: rows.length > page.limit };
}
