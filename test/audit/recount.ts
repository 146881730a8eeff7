import type { AuditEventV1, Severity } from '../../schema/audit-event.ts';
import { SEVERITY_RANK } from '../../schema/audit-event.ts';
import { prng } from './support.ts';

/** `client.query` of PGlite or node-postgres, as the superuser (no row-level security in the way). */
export type Query = (text: string, params: unknown[]) => Promise<{ rows: any[] }>;

/**
 * Each dimension recomputed from the stored event document (not from the columns ingest derived), so the recount
 * checks ingest's derivation too. Only the cluster comes from its column: the credential said it, not the event.
 * Counting is per finding group (the checks of one policy and mode on one container: `findingGroups`), each weighed
 * by the event's `count`; `GROUPS` derives them in SQL, independently of the TypeScript.
 */
const DIMENSIONS: Record<string, string> = {
  cluster: `g.cluster_id::text`,
  namespace: `coalesce(g.event->'workload'->>'namespace', '')`,
  policy: `g.policy`,
  verdict: `g.verdict`,
  severity: `g.severity`,
  kind: `g.event->>'kind'`,
  image: `g.image`,
  workload: `coalesce((g.event->'workload'->>'namespace') || '/' || (g.event->'workload'->>'kind') || '/' || (g.event->'workload'->>'name'), '')`,
};
const RANKS = `array['low','medium','high','critical']`;
const GROUPS = `(
  select e.cluster_id, e.event, coalesce((e.event->>'count')::bigint, 1) as times, coalesce(e.event->'policy'->>'id', '') as policy,
         e.event->>'verdict' as verdict, e.event->>'severity' as severity, coalesce(e.event->'workload'->>'image', '') as image, array[]::text[] as checks
  from audit_events e where e.tenant_id = $1 and jsonb_array_length(e.event->'checks') = 0
  union all
  select e.cluster_id, e.event, coalesce((e.event->>'count')::bigint, 1), x.policy, x.verdict,
         (${RANKS})[max(array_position(${RANKS}, x.c->>'severity'))],
         coalesce((array_agg(x.c->>'image' order by x.ord))[1], e.event->'workload'->>'image', ''),
         array_agg(distinct x.c->>'id')
  from audit_events e cross join lateral (
    select c, ord, coalesce(c->'policy'->>'id', e.event->'policy'->>'id', '') as policy,
           case when e.event->>'verdict' = 'allowed' or c->>'mode' is null then e.event->>'verdict' when c->>'mode' = 'enforce' then 'blocked' else 'alerted' end as verdict,
           coalesce(c->>'container', e.event->'workload'->>'container', '') as container
    from jsonb_array_elements(e.event->'checks') with ordinality as t(c, ord)) x
  where e.tenant_id = $1
  group by e.tenant_id, e.id, e.cluster_id, e.event, x.policy, x.verdict, x.container
)`;
const CHECKS = `(select unnest(g.checks) as id)`;
const bucketMs = (gr: string) => `(extract(epoch from date_trunc('${gr}', (g.event->>'time')::timestamptz at time zone 'UTC')) * 1000)::float8`;

/** Every row of audit_rollups of the tenant, as sorted lines (its `checks` map as sorted `id=count` pairs). */
export async function rollupLines(q: Query, tenantId: string): Promise<string[]> {
  const { rows } = await q(
    `select concat_ws('|', granularity, (extract(epoch from bucket) * 1000)::float8, cluster_id, namespace, policy_id, verdict, severity, kind, image, workload, count,
       (select coalesce(string_agg(k || '=' || v, ',' order by k), '') from jsonb_each_text(checks) as x(k, v))) as line
     from audit_rollups where tenant_id = $1`,
    [tenantId],
  );
  return rows.map((r) => r.line as string).sort();
}

/** The same lines, recounted from raw events: per tuple the finding groups, and how many of them held each check id. */
export async function recountLines(q: Query, tenantId: string): Promise<string[]> {
  const dims = ['cluster', 'namespace', 'policy', 'verdict', 'severity', 'kind', 'image', 'workload'].map((d, i) => `${DIMENSIONS[d]} as d${i}`).join(', ');
  const names = Array.from({ length: 8 }, (_, i) => `d${i}`).join(', ');
  const parts = ['hour', 'day'].map(
    (gr) => `with g as (select ${bucketMs(gr)} as b, ${dims}, g.times, g.checks from ${GROUPS} g),
              totals as (select b, ${names}, sum(times) as n from g group by b, ${names}),
              per_check as (select b, ${names}, k.id, sum(times) as n from g cross join lateral unnest(g.checks) as k(id) group by b, ${names}, k.id),
              maps as (select b, ${names}, string_agg(id || '=' || n, ',' order by id) as m from per_check group by b, ${names})
            select concat_ws('|', '${gr}', t.b, ${names.split(', ').map((n) => `t.${n}`).join(', ')}, t.n, coalesce(m.m, '')) as line
            from totals t left join maps m using (b, ${names})`,
  );
  const lines: string[] = [];
  for (const part of parts) lines.push(...(await q(part, [tenantId])).rows.map((r) => r.line as string));
  return lines.sort();
}

/** What GET /v1/audit/summary should answer for `groupBy` over the whole table, as sorted `key|bucket|count` lines. */
export async function recountSummary(q: Query, tenantId: string, groupBy: string[], granularity: 'hour' | 'day'): Promise<string[]> {
  const byCheck = groupBy.includes('check');
  const dims = groupBy.map((d) => (d === 'check' ? 'k.id' : DIMENSIONS[d]!));
  const key = dims.length ? `concat_ws('|', ${dims.join(', ')})` : `''`;
  const { rows } = await q(
    `select ${key} || '|' || ${bucketMs(granularity)} || '|' || sum(g.times) as line
     from ${GROUPS} g ${byCheck ? `cross join lateral ${CHECKS} k` : ''}
     group by ${[...dims, bucketMs(granularity)].join(', ')}`,
    [tenantId],
  );
  return rows.map((r) => r.line as string).sort();
}

/** An API summary answer in the same lines. */
export function summaryLines(summary: { groupBy: string[]; groups: Array<{ key: Record<string, string | null>; buckets: Array<{ start: string; count: number }> }> }): string[] {
  return summary.groups
    .flatMap((g) => g.buckets.map((b) => [summary.groupBy.map((d) => g.key[d] ?? '').join('|'), Date.parse(b.start), b.count].join('|')))
    .sort();
}

const CHECK_IDS = ['registriesAllowed', 'limitContainerPrivileges.privileged', 'bestPracticeCheck.imageTagNotLatest'];
const SEVERITIES: Severity[] = ['low', 'medium', 'high', 'critical'];
export const POLICIES = ['0190f0a0-0000-7000-8000-00000000000a', '0190f0a0-0000-7000-8000-00000000000b'];

/**
 * A seeded world of batches: events drawn from a pool (so that batches repeat ids, within themselves and across
 * each other), from small domains so that rollup keys collide, spread over three days, with an invalid event now
 * and then. `cluster` picks one of the caller's agents.
 */
export function generateBatches(seed: number, sizes: { batches: number; maxBatch: number; clusters: number }, base: number) {
  const rand = prng(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(rand() * items.length)]!;
  const poolSize = Math.max(1, Math.floor((sizes.batches * sizes.maxBatch) / 2));
  const pool = Array.from({ length: poolSize }, (_, i): AuditEventV1 => {
    // Half the events in the grain of agents before 0.2 (one policy at the top, checks without attribution), half in
    // today's (one event per decision: each check names its policy, mode and container; repeats carry a count).
    const perDecision = rand() < 0.5;
    const checks = Array.from({ length: Math.floor(rand() * (perDecision ? 6 : 4)) }, (): AuditEventV1['checks'][number] => {
      const check = { id: pick(CHECK_IDS), message: 'm', severity: pick(SEVERITIES) };
      if (!perDecision) return check;
      const image = pick([undefined, 'nginx:1', 'redis:7']);
      return { ...check, policy: { id: pick(POLICIES), name: 'p', revision: 1 }, mode: pick(['audit', 'enforce'] as const), ...(rand() < 0.7 ? { container: pick(['app', 'proxy']) } : {}), ...(image ? { image } : {}) };
    });
    const severity = checks.length ? checks.reduce((a, c) => (SEVERITY_RANK[c.severity] > SEVERITY_RANK[a] ? c.severity : a), 'low' as Severity) : pick(SEVERITIES);
    const time = new Date(base + Math.floor(rand() * 3 * 86_400_000)).toISOString();
    const verdict = perDecision && checks.length ? (checks.some((c) => c.mode === 'enforce') ? 'blocked' : 'alerted') : pick(['blocked', 'allowed', 'alerted'] as const);
    const event: AuditEventV1 = { id: `${seed.toString(16).padStart(8, '0').slice(-8)}-0000-7000-8000-${i.toString(16).padStart(12, '0')}`, time, kind: pick(['admission', 'process', 'network'] as const), verdict, bundleRevision: 1, checks, severity };
    const policy = perDecision ? undefined : pick([undefined, ...POLICIES]);
    if (policy) event.policy = { id: policy, name: 'p', revision: 1 };
    if (perDecision && rand() < 0.3) Object.assign(event, { count: 1 + Math.floor(rand() * 20), firstSeen: new Date(Date.parse(time) - 5000).toISOString(), lastSeen: time });
    if (rand() < 0.8) {
      const image = pick([undefined, 'nginx:1', 'redis:7']);
      event.workload = { namespace: pick(['shop', 'infra']), kind: pick(['Pod', 'Deployment']), name: pick(['web', 'db']), ...(image ? { image } : {}), ...(rand() < 0.3 ? { container: 'app' } : {}) };
    }
    return event;
  });
  return Array.from({ length: sizes.batches }, () => ({
    cluster: Math.floor(rand() * sizes.clusters),
    format: pick(['json', 'ndjson'] as const),
    gzip: rand() < 0.5,
    events: Array.from({ length: 1 + Math.floor(rand() * sizes.maxBatch) }, (): unknown => (rand() < 0.05 ? { ...pick(pool), verdict: 'unsure' } : pick(pool))),
  }));
}
