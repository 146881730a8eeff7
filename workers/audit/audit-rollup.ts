import { SEVERITY_RANK, type AuditCheck, type AuditEventV1, type AuditWorkload, type Severity } from '../../schema/audit-event.ts';

export type Granularity = 'hour' | 'day';
export const GRANULARITIES: readonly Granularity[] = ['hour', 'day'];
export const GRANULARITY_MS: Record<Granularity, number> = { hour: 3_600_000, day: 86_400_000 };

/** Start of the UTC hour or day holding `time` (ms), in ms since the epoch. */
export const bucketStart = (time: number, granularity: Granularity) => Math.floor(time / GRANULARITY_MS[granularity]) * GRANULARITY_MS[granularity];

/** The `workload` dimension: `namespace/Kind/name`, or '' for events about no workload. */
export const workloadKey = (w: AuditWorkload | undefined) => (w ? `${w.namespace}/${w.kind}/${w.name}` : '');

/** Distinct check ids in order of first appearance. */
export const checkIdsOf = (event: AuditEventV1) => [...new Set(event.checks.map((c) => c.id))];

/** The one policy an event is about: its own, or the one all its checks name; undefined when none or several. */
export function policyIdOf(event: AuditEventV1): string | undefined {
  if (event.policy) return event.policy.id;
  const ids = new Set(event.checks.map((c) => c.policy?.id));
  return ids.size === 1 ? [...ids][0] : undefined;
}

/** Every policy id an event names, at the top or in its checks. */
export const policyIdsOf = (event: AuditEventV1) => [...new Set([event.policy?.id, ...event.checks.map((c) => c.policy?.id)].filter((id): id is string => id !== undefined))];

/**
 * A finding group: the checks of one policy (in one mode) on one container, which is what one event was before
 * events carried a whole decision. Rollups count groups, so summaries mean the same for old and new events: an event
 * of the old grain is one group; one of the new grain is as many as the policies × containers its findings touch.
 */
export interface FindingGroup {
  policyId: string;
  verdict: string;
  severity: Severity;
  image: string;
  checkIds: string[];
}

/** The verdict a check's own mode implies, within the event's verdict (`allowed` and agent events keep theirs). */
const verdictOf = (event: AuditEventV1, check: AuditCheck) =>
  event.verdict === 'allowed' || check.mode === undefined ? event.verdict : check.mode === 'enforce' ? 'blocked' : 'alerted';

export function findingGroups(event: AuditEventV1): FindingGroup[] {
  const image = event.workload?.image ?? '';
  if (event.checks.length === 0) return [{ policyId: event.policy?.id ?? '', verdict: event.verdict, severity: event.severity, image, checkIds: [] }];
  const groups = new Map<string, FindingGroup>();
  let attributed = false;
  for (const c of event.checks) {
    const policyId = c.policy?.id ?? event.policy?.id ?? '';
    const verdict = verdictOf(event, c);
    const container = c.container ?? event.workload?.container ?? '';
    if (c.policy || c.mode) attributed = true;
    // NUL cannot occur in stored text (ingest refuses it), so it separates the parts unambiguously.
    const key = `${policyId}\u0000${verdict}\u0000${container}`;
    const group = groups.get(key);
    if (!group) groups.set(key, { policyId, verdict, severity: c.severity, image: c.image ?? image, checkIds: [c.id] });
    else {
      if (SEVERITY_RANK[c.severity] > SEVERITY_RANK[group.severity]) group.severity = c.severity;
      if (!group.checkIds.includes(c.id)) group.checkIds.push(c.id);
    }
  }
  // An event of the old grain (no attribution in its checks) keeps its own severity, as it always did.
  if (groups.size === 1 && !attributed) [...groups.values()][0]!.severity = event.severity;
  return [...groups.values()];
}

export interface RollupRow {
  tenantId: string;
  granularity: Granularity;
  bucket: string;
  clusterId: string;
  namespace: string;
  policyId: string;
  verdict: string;
  severity: string;
  kind: string;
  image: string;
  workload: string;
  /** Finding groups of the tuple in the bucket. */
  count: number;
  /** Of those, how many held each check id (a group with two checks counts under both). */
  checks: Record<string, number>;
}

/**
 * The rollup increments of a set of newly stored events, summed in memory so that each key appears once (one
 * INSERT ... ON CONFLICT DO UPDATE cannot touch a row twice), sorted by key so that concurrent batches lock rows in
 * the same order. Each event adds its finding groups, `count` times (an aggregate event stands for that many
 * identical decisions), in the bucket of its `time`. One row per tuple and bucket carries the per-check counts in
 * `checks` rather than a row per check: rows are what the upsert pays for, and a row per check more than doubled them.
 */
export function rollupIncrements(tenantId: string, clusterId: string, events: readonly AuditEventV1[]): RollupRow[] {
  // One lookup per finding group by its tuple (the dimensions but the bucket), then one per granularity by bucket
  // start (a number): JSON keys of whole rows, built and hashed twice per group, were most of the cost.
  type Entry = { granularity: number; start: number; tuple: string; row: RollupRow };
  // Per tuple its rows, few (the buckets a batch spans): a scan finds one faster than a Map per tuple would.
  const tuples = new Map<string, Entry[]>();
  const out: Entry[] = [];
  // Buckets repeat across a batch: each start is formatted once.
  const starts = new Map<number, string>();
  const startOf = (ms: number) => {
    let iso = starts.get(ms);
    if (iso === undefined) starts.set(ms, (iso = new Date(ms).toISOString()));
    return iso;
  };
  for (const event of events) {
    const time = Date.parse(event.time);
    const times = event.count ?? 1;
    const namespace = event.workload?.namespace ?? '';
    const workload = workloadKey(event.workload);
    for (const group of findingGroups(event)) {
      // NUL cannot occur in stored text (ingest refuses it), so it separates the parts unambiguously, and comparing
      // two such keys compares the tuples part by part.
      const key = `${namespace}\u0000${group.policyId}\u0000${group.verdict}\u0000${group.severity}\u0000${event.kind}\u0000${group.image}\u0000${workload}`;
      let entries = tuples.get(key);
      if (!entries) tuples.set(key, (entries = []));
      for (const granularity of GRANULARITIES) {
        const order = GRANULARITY_ORDER[granularity];
        const start = bucketStart(time, granularity);
        let entry = entries.find((e) => e.start === start && e.granularity === order);
        if (!entry) {
          const row: RollupRow = { tenantId, clusterId, granularity, bucket: startOf(start), namespace, policyId: group.policyId, verdict: group.verdict, severity: group.severity, kind: event.kind, image: group.image, workload, count: 0, checks: Object.create(null) as Record<string, number> };
          entries.push((entry = { granularity: order, start, tuple: key, row }));
          out.push(entry);
        }
        const row = entry.row;
        row.count += times;
        for (const checkId of group.checkIds) row.checks[checkId] = (row.checks[checkId] ?? 0) + times;
      }
    }
  }
  // Sorted by (granularity, bucket, dimensions...), the order of the rollups' unique key.
  out.sort((a, b) => a.granularity - b.granularity || a.start - b.start || (a.tuple < b.tuple ? -1 : a.tuple > b.tuple ? 1 : 0));
  return out.map((o) => o.row);
}

/** Granularities in the order of their names ('day' < 'hour'), as the rows were always sorted. */
const GRANULARITY_ORDER: Record<Granularity, number> = { day: 0, hour: 1 };
