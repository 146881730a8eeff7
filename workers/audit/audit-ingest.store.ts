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

const rows = async <T>(tx: Tx, query: SQL) => ((await tx.execute(query)) as unknown as { rows: T[] }).rows;

/**
 * A Postgres array literal of text, every element quoted (so commas, braces, blanks and `NULL` stay text) and only
 * `"` and `\` escaped. node-postgres builds the same literal from a JS array, at several times the cost (it looks at
 * each element's type and runs two replaces on each); the ingest of a batch sends a dozen such arrays.
 */
export function textArrayLiteral(values: readonly (string | number)[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = String(values[i]);
    out += (i === 0 ? '"' : ',"') + (NEEDS_ESCAPE.test(v) ? v.replace(ESCAPED, '\\$&') : v) + '"';
  }
  return out + '}';
}
const NEEDS_ESCAPE = /["\\]/;
const ESCAPED = /["\\]/g;

/**
 * The events' INSERT ... ON CONFLICT (tenant_id, id) DO NOTHING RETURNING id, of distinct events. Per event only what
 * Postgres cannot read off the event itself travels beside it; the other columns are taken from the parsed jsonb (a
 * lookup in binary jsonb costs less than parsing the same values again as members of their own).
 */
export function eventsInsert(input: Omit<IngestInput, 'events'>, unique: readonly AuditEventV1[]): SQL {
  const document = JSON.stringify(unique.map((e) => ({ policy_id: policyIdOf(e) ?? null, check_ids: checkIdsOf(e), event: e })));
  return sql`insert into audit_events (tenant_id, id, cluster_id, time, received_at, kind, verdict, mode, severity, policy_id, check_ids, namespace, image, event)
        select ${input.tenantId}::uuid, (event ->> 'id')::uuid, ${input.clusterId}::uuid, (event ->> 'time')::timestamptz, ${input.receivedAt}::timestamptz,
          event ->> 'kind', event ->> 'verdict', event ->> 'mode', event ->> 'severity', policy_id, check_ids, event -> 'workload' ->> 'namespace', event -> 'workload' ->> 'image', event
        from jsonb_to_recordset(${document}::jsonb) as u(policy_id uuid, check_ids text[], event jsonb)
        on conflict (tenant_id, id) do nothing
        returning id`;
}

/**
 * The rollup upsert of `increments` (one row per key, sorted: see rollupIncrements), as SQL to run on its own or as
 * a data-modifying CTE; `when` gates it (the single-statement ingest applies it only if every event was new).
 * Columns travel as one array literal each (`unnest`; the cluster, the same for all, once), the per-check maps as
 * one JSON array picked by position.
 * Per-check counts merge key by key: the stored map, overwritten by the sums of the keys the increment holds.
 */
export function rollupUpsert(tenantId: string, clusterId: string, increments: readonly RollupRow[], when: SQL = sql`true`): SQL {
  const column = <K extends keyof RollupRow>(key: K) => textArrayLiteral(increments.map((r) => r[key] as string | number));
  const checks = `[${increments.map((r) => JSON.stringify(r.checks)).join(',')}]`;
  return sql`insert into audit_rollups (tenant_id, granularity, bucket, cluster_id, namespace, policy_id, verdict, severity, kind, image, workload, count, checks)
      select ${tenantId}::uuid, granularity, bucket, ${clusterId}::text, namespace, policy_id, verdict, severity, kind, image, workload, count, ${checks}::jsonb -> (i::int - 1)
      from unnest(${column('granularity')}::text[], ${column('bucket')}::timestamptz[], ${column('namespace')}::text[],
        ${column('policyId')}::text[], ${column('verdict')}::text[], ${column('severity')}::text[], ${column('kind')}::text[], ${column('image')}::text[],
        ${column('workload')}::text[], ${column('count')}::bigint[]) with ordinality
        as u(granularity, bucket, namespace, policy_id, verdict, severity, kind, image, workload, count, i)
      where ${when}
      on conflict (tenant_id, granularity, bucket, cluster_id, namespace, policy_id, verdict, severity, kind, image, workload)
      do update set count = audit_rollups.count + excluded.count,
        checks = audit_rollups.checks || coalesce((select jsonb_object_agg(k, n::bigint + coalesce((audit_rollups.checks ->> k)::bigint, 0)) from jsonb_each_text(excluded.checks) as x(k, n)), '{}')`;
}

/**
 * Stores a batch in the caller's tenant transaction, in one statement when none of its events was stored before
 * (the usual case), two otherwise.
 *
 * The statement: a multi-row INSERT ... ON CONFLICT (tenant_id, id) DO NOTHING RETURNING id of the events, and, as a
 * data-modifying CTE after it, one multi-row upsert (ON CONFLICT DO UPDATE adding counts) of the rollup increments
 * of all the batch's events, summed in memory first, gated on the insert having stored every one of them. When some
 * were duplicates (a retry, or a concurrent batch holding the same ids: ON CONFLICT waits for it), the gate leaves
 * the rollups untouched and a second statement upserts the increments of exactly the events that were new. Either
 * way each stored event is counted once, in the transaction that stored it.
 *
 * Events travel as one JSON document (`jsonb_to_recordset`, see eventsInsert): Postgres parses each event once,
 * straight into jsonb, where text-array parameters made it parse an escaped copy of every event's JSON and then the
 * JSON again (`json_to_recordset` measured slower too). The statement answers how many events it stored, and their
 * ids only when that is not all of them. Not COPY itself: it has no ON CONFLICT, so idempotency would need a staging
 * table and a second insert; Neon's HTTP driver has no COPY at all, and over its WebSocket Pool COPY FROM STDIN needs
 * pg-copy-streams on the raw client, outside drizzle's transaction. What is left between this and a COPY of the same
 * rows is measured by `npm run bench -- audit` (each half alone beside the COPY).
 * `onStored` runs last, in the same transaction (the webhooks outbox). Idempotent on (tenant, event id).
 */
export async function ingestEvents(tx: Tx, input: IngestInput, hooks: { onStored?: OnEventsStored } = {}): Promise<IngestResult> {
  const byId = new Map<string, AuditEventV1>();
  for (const event of input.events) if (!byId.has(event.id)) byId.set(event.id, event);
  // Sorted by id so that concurrent batches holding the same ids wait on each other instead of deadlocking.
  const unique = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (unique.length === 0) return { stored: [], duplicates: input.events.length };

  const all = rollupIncrements(input.tenantId, input.clusterId, unique);
  const [result] = await rows<{ stored: number; ids: string[] | string | null }>(
    tx,
    sql`with inserted as (${eventsInsert(input, unique)}),
      rolled_up as (${rollupUpsert(input.tenantId, input.clusterId, all, sql`(select count(*) from inserted) = ${unique.length}`)})
      select count(*)::int as stored, case when count(*) < ${unique.length} then coalesce(jsonb_agg(id), '[]') end as ids from inserted`,
  );
  let storedEvents = unique;
  if (Number(result!.stored) < unique.length) {
    // jsonb arrives parsed from PGlite and node-postgres, as text from drivers that do not parse it.
    const ids = typeof result!.ids === 'string' ? (JSON.parse(result!.ids) as string[]) : (result!.ids ?? []);
    const inserted = new Set(ids);
    storedEvents = unique.filter((e) => inserted.has(e.id));
    const increments = rollupIncrements(input.tenantId, input.clusterId, storedEvents);
    if (increments.length > 0) await tx.execute(rollupUpsert(input.tenantId, input.clusterId, increments));
  }

  const stored = storedEvents.map((event) => ({ tenantId: input.tenantId, clusterId: input.clusterId, receivedAt: input.receivedAt, event }));
  if (stored.length > 0) await hooks.onStored?.(tx, stored);
  return { stored, duplicates: input.events.length - stored.length };
}
