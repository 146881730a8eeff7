import type { AuditEventV1, Severity } from '../../schema/audit-event.ts';
import { SEVERITY_RANK } from '../../schema/audit-event.ts';
import { prng } from './support.ts';

/** `client.query` of PGlite or node-postgres, as the superuser (no row-level security in the way). */
export type Query = (text: string, params: unknown[]) => Promise<{ rows: any[] }>;

/**
 * Each dimension recomputed from the stored event document (not from the columns ingest derived), so the recount
 * checks ingest's derivation too. Only the cluster comes from its column: the credential said it, not the event.
 */
const DIMENSIONS: Record<string, string> = {
  cluster: `e.cluster_id::text`,
  namespace: `coalesce(e.event->'workload'->>'namespace', '')`,
  policy: `coalesce(e.event->'policy'->>'id', '')`,
  verdict: `e.event->>'verdict'`,
  severity: `e.event->>'severity'`,
  kind: `e.event->>'kind'`,
  image: `coalesce(e.event->'workload'->>'image', '')`,
  workload: `coalesce((e.event->'workload'->>'namespace') || '/' || (e.event->'workload'->>'kind') || '/' || (e.event->'workload'->>'name'), '')`,
};
const CHECKS = `(select distinct c->>'id' as id from jsonb_array_elements(e.event->'checks') c)`;
const bucketMs = (g: string) => `(extract(epoch from date_trunc('${g}', (e.event->>'time')::timestamptz at time zone 'UTC')) * 1000)::float8`;

/** Every row of audit_rollups of the tenant, as sorted lines. */
export async function rollupLines(q: Query, tenantId: string): Promise<string[]> {
  const { rows } = await q(
    `select concat_ws('|', granularity, (extract(epoch from bucket) * 1000)::float8, cluster_id, namespace, policy_id, check_id, verdict, severity, kind, image, workload, count) as line
     from audit_rollups where tenant_id = $1`,
    [tenantId],
  );
  return rows.map((r) => r.line as string).sort();
}

/** The same lines, recounted from raw events: one row per event with check '' plus one per distinct check id. */
export async function recountLines(q: Query, tenantId: string): Promise<string[]> {
  const dims = ['cluster', 'namespace', 'policy'].map((d) => DIMENSIONS[d]).join(', ');
  const rest = ['verdict', 'severity', 'kind', 'image', 'workload'].map((d) => DIMENSIONS[d]).join(', ');
  const parts = ['hour', 'day'].map(
    (g) => `select concat_ws('|', '${g}', ${bucketMs(g)}, ${dims}, k.check_id, ${rest}, count(*)) as line
            from audit_events e cross join lateral (select '' as check_id union all select id from ${CHECKS} x) k
            where e.tenant_id = $1
            group by ${bucketMs(g)}, ${dims}, k.check_id, ${rest}`,
  );
  const { rows } = await q(parts.join(' union all '), [tenantId]);
  return rows.map((r) => r.line as string).sort();
}

/** What GET /v1/audit/summary should answer for `groupBy` over the whole table, as sorted `key|bucket|count` lines. */
export async function recountSummary(q: Query, tenantId: string, groupBy: string[], granularity: 'hour' | 'day'): Promise<string[]> {
  const byCheck = groupBy.includes('check');
  const dims = groupBy.map((d) => (d === 'check' ? 'k.id' : DIMENSIONS[d]!));
  const key = dims.length ? `concat_ws('|', ${dims.join(', ')})` : `''`;
  const { rows } = await q(
    `select ${key} || '|' || ${bucketMs(granularity)} || '|' || count(*) as line
     from audit_events e ${byCheck ? `cross join lateral ${CHECKS} k` : ''}
     where e.tenant_id = $1 group by ${[...dims, bucketMs(granularity)].join(', ')}`,
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
    const checks = Array.from({ length: Math.floor(rand() * 4) }, () => ({ id: pick(CHECK_IDS), message: 'm', severity: pick(SEVERITIES) }));
    const severity = checks.length ? checks.reduce((a, c) => (SEVERITY_RANK[c.severity] > SEVERITY_RANK[a] ? c.severity : a), 'low' as Severity) : pick(SEVERITIES);
    const time = new Date(base + Math.floor(rand() * 3 * 86_400_000)).toISOString();
    const event: AuditEventV1 = { id: `${seed.toString(16).padStart(8, '0').slice(-8)}-0000-7000-8000-${i.toString(16).padStart(12, '0')}`, time, kind: pick(['admission', 'process', 'network'] as const), verdict: pick(['blocked', 'allowed', 'alerted'] as const), bundleRevision: 1, checks, severity };
    const policy = pick([undefined, ...POLICIES]);
    if (policy) event.policy = { id: policy, name: 'p', revision: 1 };
    if (rand() < 0.8) {
      const image = pick([undefined, 'nginx:1', 'redis:7']);
      event.workload = { namespace: pick(['shop', 'infra']), kind: pick(['Pod', 'Deployment']), name: pick(['web', 'db']), ...(image ? { image } : {}) };
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
