import { sql, type SQL } from 'drizzle-orm';
import type { AuditEventV1 } from '../../schema/audit-event.ts';
import type { Tx } from '../db/db.ts';
import { checkIdsOf, policyIdOf, rollupIncrements, type RollupRow } from './audit-rollup.ts';
import type { OnEventsStored, StoredAuditEvent } from './audit.types.ts';

export interface IngestInput {
  tenantId: string;
  clusterId: string;
  /** ISO time the batch arrived. */
  receivedAt: string;
  /** Valid events, `time` normalized (see checkEvent). */
  events: readonly AuditEventV1[];
}

export interface IngestResult {
  /** The events this call stored; the rest were duplicates, in the batch or from earlier batches. */
  stored: StoredAuditEvent[];
  duplicates: number;
}

/** A Postgres array literal of text, for one row's `check_ids` inside an array parameter. */
const arrayLiteral = (items: readonly string[]) => `{${items.map((s) => `"${s.replace(/[\\"]/g, (ch) => '\\' + ch)}"`).join(',')}}`;

const rows = async <T>(tx: Tx, query: SQL) => ((await tx.execute(query)) as unknown as { rows: T[] }).rows;

/**
 * Stores a batch in the caller's tenant transaction, in two statements whatever its size: one multi-row
 * INSERT ... ON CONFLICT (tenant_id, id) DO NOTHING RETURNING id, then one multi-row upsert (ON CONFLICT DO UPDATE
 * SET count = count + excluded.count) of the rollup increments of exactly the events that were new. Rows travel as
 * one array parameter per column (`unnest`), which Postgres parses and plans far faster than thousands of VALUES
 * parameters. `onStored` runs last, in the same transaction (the webhooks outbox). Idempotent on (tenant, event id).
 */
export async function ingestEvents(tx: Tx, input: IngestInput, hooks: { onStored?: OnEventsStored } = {}): Promise<IngestResult> {
  const byId = new Map<string, AuditEventV1>();
  for (const event of input.events) if (!byId.has(event.id)) byId.set(event.id, event);
  // Sorted by id so that concurrent batches holding the same ids wait on each other instead of deadlocking.
  const unique = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  const column = <T>(pick: (e: AuditEventV1) => T) => sql.param(unique.map(pick));
  const returned = await rows<{ id: string }>(
    tx,
    sql`insert into audit_events (tenant_id, id, cluster_id, time, received_at, kind, verdict, mode, severity, policy_id, check_ids, namespace, image, event)
        select ${input.tenantId}::uuid, id, ${input.clusterId}::uuid, time, ${input.receivedAt}::timestamptz, kind, verdict, mode, severity, policy_id, check_ids::text[], namespace, image, event::jsonb
        from unnest(${column((e) => e.id)}::uuid[], ${column((e) => e.time)}::timestamptz[], ${column((e) => e.kind)}::text[], ${column((e) => e.verdict)}::text[],
                    ${column((e) => e.mode ?? null)}::text[], ${column((e) => e.severity)}::text[], ${column((e) => policyIdOf(e) ?? null)}::uuid[],
                    ${column((e) => arrayLiteral(checkIdsOf(e)))}::text[], ${column((e) => e.workload?.namespace ?? null)}::text[],
                    ${column((e) => e.workload?.image ?? null)}::text[], ${column((e) => JSON.stringify(e))}::text[])
          as u(id, time, kind, verdict, mode, severity, policy_id, check_ids, namespace, image, event)
        on conflict (tenant_id, id) do nothing
        returning id`,
  );
  const inserted = new Set(returned.map((r) => r.id));
  const storedEvents = unique.filter((e) => inserted.has(e.id));

  const increments = rollupIncrements(input.tenantId, input.clusterId, storedEvents);
  if (increments.length > 0) {
    const of = <K extends keyof RollupRow>(key: K) => sql.param(increments.map((r) => r[key]));
    await tx.execute(sql`
      insert into audit_rollups (tenant_id, granularity, bucket, cluster_id, namespace, policy_id, check_id, verdict, severity, kind, image, workload, count)
      select ${input.tenantId}::uuid, * from unnest(${of('granularity')}::text[], ${of('bucket')}::timestamptz[], ${of('clusterId')}::text[], ${of('namespace')}::text[],
        ${of('policyId')}::text[], ${of('checkId')}::text[], ${of('verdict')}::text[], ${of('severity')}::text[], ${of('kind')}::text[], ${of('image')}::text[],
        ${of('workload')}::text[], ${of('count')}::bigint[])
      on conflict (tenant_id, granularity, bucket, cluster_id, namespace, policy_id, check_id, verdict, severity, kind, image, workload)
      do update set count = audit_rollups.count + excluded.count`);
  }

  const stored = storedEvents.map((event) => ({ tenantId: input.tenantId, clusterId: input.clusterId, receivedAt: input.receivedAt, event }));
  if (stored.length > 0) await hooks.onStored?.(tx, stored);
  return { stored, duplicates: input.events.length - stored.length };
}
