import { and, eq, inArray } from 'drizzle-orm';
import { ENFORCEABLE_SECTIONS, type AgentComponent, type AgentEnforcement, type EnforceableSection } from '../../schema/enforcement.ts';
import { agentEnforcement } from '../../schema/tables/index.ts';
import type { Tx } from '../db/db.ts';

/**
 * An instance that has not reported for this long no longer counts: agents report every 60 s, so 10 minutes is ten
 * missed reports (a node drained or an old replica gone), not a slow network.
 */
export const ENFORCEMENT_LIVE_MS = 10 * 60_000;

/** Stores what one agent instance says it enforces (one row per cluster, component and instance). */
export async function recordEnforcement(tx: Tx, tenantId: string, clusterId: string, e: AgentEnforcement, at: Date): Promise<void> {
  const values = { sections: [...new Set(e.sections)], detectOnly: [...new Set(e.detectOnly)], reportedAt: at.toISOString() };
  await tx
    .insert(agentEnforcement)
    .values({ tenantId, clusterId, component: e.component, instance: e.instance, ...values })
    .onConflictDoUpdate({ target: [agentEnforcement.clusterId, agentEnforcement.component, agentEnforcement.instance], set: values });
}

export interface InstanceEnforcement {
  component: AgentEnforcement['component'];
  instance: string;
  sections: EnforceableSection[];
  detectOnly: EnforceableSection[];
  reportedAt: string;
  live: boolean;
}

/** What a cluster's agents enforce, from its live instances. */
export interface ClusterEnforcement {
  /** Enforced by every live admission instance, plus those enforced by every live node instance. */
  sections: EnforceableSection[];
  /** Sections some live node instance only detects. */
  detectOnly: EnforceableSection[];
  instances: InstanceEnforcement[];
}

const intersect = (sets: EnforceableSection[][]) => (sets.length === 0 ? [] : ENFORCEABLE_SECTIONS.filter((s) => sets.every((x) => x.includes(s))));

/**
 * What live instances enforce together: a section every live admission replica enforces (a request may reach any), or
 * every live node agent does (a pod may land on any node). Duplicated reports change nothing, so distinct ones do.
 */
export function enforcedSections(live: ReadonlyArray<{ component: AgentComponent; sections: EnforceableSection[] }>): EnforceableSection[] {
  const admission = intersect(live.filter((i) => i.component === 'admission').map((i) => i.sections));
  const node = intersect(live.filter((i) => i.component === 'node').map((i) => i.sections));
  return ENFORCEABLE_SECTIONS.filter((s) => admission.includes(s) || node.includes(s));
}

/**
 * Per cluster, from its instances' reports: `enforcedSections` of the live ones. Instances silent for
 * `ENFORCEMENT_LIVE_MS` are listed with `live: false` and do not count. Pure.
 */
export function deriveEnforcement(rows: Array<Omit<InstanceEnforcement, 'live'>>, now: Date): ClusterEnforcement {
  const instances = rows
    .map((r) => ({ ...r, reportedAt: new Date(r.reportedAt).toISOString(), live: now.getTime() - Date.parse(r.reportedAt) <= ENFORCEMENT_LIVE_MS }))
    .sort((a, b) => a.component.localeCompare(b.component) || a.instance.localeCompare(b.instance));
  const live = instances.filter((i) => i.live);
  const detect = new Set(live.filter((i) => i.component === 'node').flatMap((i) => i.detectOnly));
  return { sections: enforcedSections(live), detectOnly: ENFORCEABLE_SECTIONS.filter((s) => detect.has(s)), instances };
}

/** The enforcement of each of the tenant's clusters (all of them when `clusterIds` is absent). */
export async function loadEnforcement(tx: Tx, tenantId: string, now: Date, clusterIds?: string[]): Promise<Map<string, ClusterEnforcement>> {
  const where = clusterIds ? and(eq(agentEnforcement.tenantId, tenantId), inArray(agentEnforcement.clusterId, clusterIds)) : eq(agentEnforcement.tenantId, tenantId);
  const rows = clusterIds?.length === 0 ? [] : await tx.select().from(agentEnforcement).where(where);
  const byCluster = new Map<string, typeof rows>();
  for (const r of rows) byCluster.set(r.clusterId, [...(byCluster.get(r.clusterId) ?? []), r]);
  return new Map([...byCluster].map(([id, list]) => [id, deriveEnforcement(list, now)]));
}
