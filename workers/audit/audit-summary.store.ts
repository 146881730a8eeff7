import { and, eq, ne, sql, type SQL } from 'drizzle-orm';
import { auditRollups as r } from '../../schema/tables/index.ts';
import type { Tx } from '../db/db.ts';
import { filterConditions, type AuditFilters, type FilterColumns } from './audit-filters.ts';
import type { Granularity } from './audit-rollup.ts';

/** One entry of a rollup row's `checks` map, joined in (`perCheck`) when a summary counts by check. */
const CHECK = sql.raw('c.check_id');
const CHECK_COUNT = sql.raw('c.n::bigint');

/** What a summary can group by: every dimension of the rollups. */
export const SUMMARY_DIMENSIONS = { policy: r.policyId, check: CHECK, cluster: r.clusterId, namespace: r.namespace, verdict: r.verdict, severity: r.severity, kind: r.kind, image: r.image, workload: r.workload };
export type SummaryDimension = keyof typeof SUMMARY_DIMENSIONS;

export interface SummaryQuery {
  granularity: Granularity;
  /** Bucket-aligned: from inclusive, to exclusive, ms. */
  from: number;
  to: number;
  groupBy: SummaryDimension[];
  filters: AuditFilters;
  /** Most groups answered (the largest totals), and most workloads in topWorkloads. */
  limit: number;
  top: number;
}

export interface SummaryGroup {
  key: Partial<Record<SummaryDimension, string | null>>;
  buckets: Array<{ start: string; count: number }>;
  total: number;
}

const ROLLUP_COLUMNS: FilterColumns = { ...SUMMARY_DIMENSIONS, time: r.bucket, clusterId: r.clusterId, policyId: r.policyId, check: (check) => sql`${CHECK} = ${check}` };

/** The rows a summary reads: the rollups, or, counting by check, one row per entry of their `checks` maps. */
const source = (perCheck: boolean) => (perCheck ? sql`${r} cross join lateral jsonb_each_text(${r.checks}) as c(check_id, n)` : sql`${r}`);
const counted = (perCheck: boolean) => (perCheck ? CHECK_COUNT : sql`${r.count}`);

const rowsOf = async <T>(tx: Tx, query: SQL) => ((await tx.execute(query)) as unknown as { rows: T[] }).rows;

/**
 * Counts from `audit_rollups` only, never from raw events. A row's `count` counts each finding group once; its
 * `checks` map is read only when the summary groups or filters by check (a group with two checks counts under both).
 */
export async function summarize(tx: Tx, tenantId: string, q: SummaryQuery) {
  const base = and(eq(r.tenantId, tenantId), eq(r.granularity, q.granularity), filterConditions({ ...q.filters, from: q.from, to: q.to }, ROLLUP_COLUMNS));
  const byCheck = q.groupBy.includes('check') || q.filters.check !== undefined;
  const dims = q.groupBy.map((d) => ({ d, alias: sql.raw(`d_${d}`) }));
  const list = (items: SQL[]) => sql.join(items, sql`, `);
  const selectDims = dims.map(({ d, alias }) => sql`${SUMMARY_DIMENSIONS[d]} as ${alias}`);
  const aliases = dims.map(({ alias }) => alias);
  const partition = aliases.length ? sql`partition by ${list(aliases)}` : sql``;
  const groupRows = await rowsOf<Record<string, unknown> & { start: number; n: number; total: number; grand: number; groups: number }>(
    tx,
    sql`with per as (
          select ${list([...selectDims, sql`${r.bucket} as bucket`, sql`sum(${counted(byCheck)}) as n`])}
          from ${source(byCheck)} where ${base}
          group by ${list([...aliases, sql`bucket`])}),
        totals as (select *, sum(n) over (${partition}) as total, sum(n) over () as grand from per),
        ranked as (select *, dense_rank() over (order by ${list([sql`total desc`, ...aliases])}) as rank from totals),
        counted as (select *, max(rank) over () as groups from ranked)
        select ${list([...aliases, sql`(extract(epoch from bucket) * 1000)::float8 as start`, sql`n::float8 as n`, sql`total::float8 as total`, sql`grand::float8 as grand`, sql`groups::int as groups`])}
        from counted where rank <= ${q.limit} order by rank, bucket`,
  );
  const groups = new Map<string, SummaryGroup>();
  for (const row of groupRows) {
    const key = Object.fromEntries(q.groupBy.map((d) => [d, row[`d_${d}`] === '' ? null : (row[`d_${d}`] as string)]));
    const id = JSON.stringify(key);
    let group = groups.get(id);
    if (!group) groups.set(id, (group = { key, buckets: [], total: Number(row.total) }));
    group.buckets.push({ start: new Date(Number(row.start)).toISOString(), count: Number(row.n) });
  }

  const offending = q.filters.verdicts ? undefined : ne(r.verdict, 'allowed');
  const perCheck = q.filters.check !== undefined;
  const workloads = (
    await rowsOf<{ workload: string; count: number }>(
      tx,
      sql`select ${r.workload} as workload, sum(${counted(perCheck)})::float8 as count from ${source(perCheck)}
          where ${and(base, ne(r.workload, ''), offending)} group by ${r.workload} order by 2 desc, 1 limit ${q.top}`,
    )
  ).map((w) => ({ workload: w.workload, count: Number(w.count) }));
  const first = groupRows[0];
  return { total: Number(first?.grand ?? 0), groupCount: Number(first?.groups ?? 0), groups: [...groups.values()], topWorkloads: workloads };
}
