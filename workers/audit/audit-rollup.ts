import type { AuditEventV1, AuditWorkload } from '../../schema/audit-event.ts';

export type Granularity = 'hour' | 'day';
export const GRANULARITIES: readonly Granularity[] = ['hour', 'day'];
export const GRANULARITY_MS: Record<Granularity, number> = { hour: 3_600_000, day: 86_400_000 };

/**
 * The `check_id` of the row that counts every event of its tuple once, whatever its checks. Each event also counts
 * once under every distinct check id it holds, so a summary counts events unless it breaks them down by check.
 */
export const ALL_CHECKS = '';

/** Start of the UTC hour or day holding `time` (ms), as an ISO string. */
export const bucketStart = (time: number, granularity: Granularity) => new Date(Math.floor(time / GRANULARITY_MS[granularity]) * GRANULARITY_MS[granularity]).toISOString();

/** The `workload` dimension: `namespace/Kind/name`, or '' for events about no workload. */
export const workloadKey = (w: AuditWorkload | undefined) => (w ? `${w.namespace}/${w.kind}/${w.name}` : '');

/** Distinct check ids in order of first appearance. */
export const checkIdsOf = (event: AuditEventV1) => [...new Set(event.checks.map((c) => c.id))];

export interface RollupRow {
  tenantId: string;
  granularity: Granularity;
  bucket: string;
  clusterId: string;
  namespace: string;
  policyId: string;
  checkId: string;
  verdict: string;
  severity: string;
  kind: string;
  image: string;
  workload: string;
  count: number;
}

/**
 * The rollup increments of a set of newly stored events, summed in memory so that each key appears once (one
 * INSERT ... ON CONFLICT DO UPDATE cannot touch a row twice), sorted by key so that concurrent batches lock rows in
 * the same order.
 */
export function rollupIncrements(tenantId: string, clusterId: string, events: readonly AuditEventV1[]): RollupRow[] {
  const rows = new Map<string, RollupRow>();
  for (const event of events) {
    const time = Date.parse(event.time);
    const base = {
      tenantId,
      clusterId,
      namespace: event.workload?.namespace ?? '',
      policyId: event.policy?.id ?? '',
      verdict: event.verdict,
      severity: event.severity,
      kind: event.kind,
      image: event.workload?.image ?? '',
      workload: workloadKey(event.workload),
    };
    for (const granularity of GRANULARITIES) {
      const bucket = bucketStart(time, granularity);
      for (const checkId of [ALL_CHECKS, ...checkIdsOf(event)]) {
        const row = { ...base, granularity, bucket, checkId, count: 1 };
        const key = JSON.stringify([granularity, bucket, row.namespace, row.policyId, checkId, row.verdict, row.severity, row.kind, row.image, row.workload]);
        const seen = rows.get(key);
        if (seen) seen.count++;
        else rows.set(key, row);
      }
    }
  }
  return [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
}
