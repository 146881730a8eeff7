import { describe, expect, it } from 'vitest';
import type { AuditEventV1 } from '../../schema/audit-event.ts';
import { bucketStart, findingGroups, GRANULARITIES, rollupIncrements, workloadKey } from '../../workers/audit/audit-rollup.ts';
import { generateBatches } from './recount.ts';

/** The increments as a plain fold over events, keyed by the whole tuple as JSON: what rollupIncrements must equal. */
function reference(tenantId: string, clusterId: string, events: readonly AuditEventV1[]) {
  const rows = new Map<string, { key: string[]; count: number; checks: Record<string, number> }>();
  for (const event of events) {
    for (const group of findingGroups(event)) {
      for (const granularity of GRANULARITIES) {
        const key = [granularity, new Date(bucketStart(Date.parse(event.time), granularity)).toISOString(), event.workload?.namespace ?? '', group.policyId, group.verdict, group.severity, event.kind, group.image, workloadKey(event.workload)];
        const id = JSON.stringify(key);
        const row = rows.get(id) ?? { key, count: 0, checks: {} };
        rows.set(id, row);
        row.count += event.count ?? 1;
        for (const check of group.checkIds) row.checks[check] = (row.checks[check] ?? 0) + (event.count ?? 1);
      }
    }
  }
  return [...rows.values()].map((r) => ({ tenantId, clusterId, key: r.key, count: r.count, checks: r.checks }));
}

/** Compares tuples part by part, as a sort by the rollups' unique key (granularity, bucket, dimensions) orders them. */
const byKey = (a: string[], b: string[]) => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return 0;
};

describe('rollupIncrements', () => {
  it('sums exactly what a plain fold sums, one row per tuple and bucket, sorted by the key (the order concurrent upserts lock in)', () => {
    for (let seed = 1; seed <= 150; seed++) {
      for (const batch of generateBatches(seed, { batches: 3, maxBatch: 40, clusters: 1 }, Date.UTC(2026, 0, 1))) {
        const events = batch.events.filter((e) => (e as { verdict: string }).verdict !== 'unsure') as AuditEventV1[];
        const rows = rollupIncrements('t', 'c', events);
        const got = rows.map((r) => ({ tenantId: r.tenantId, clusterId: r.clusterId, key: [r.granularity, r.bucket, r.namespace, r.policyId, r.verdict, r.severity, r.kind, r.image, r.workload], count: r.count, checks: { ...r.checks } }));
        const want = reference('t', 'c', events).sort((a, b) => byKey(a.key, b.key));
        expect(got, `seed ${seed}`).toEqual(want);
      }
    }
  });
});
