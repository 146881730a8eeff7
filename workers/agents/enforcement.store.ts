import { and, eq, inArray, sql } from 'drizzle-orm';
import { ENFORCEABLE_SECTIONS, type AgentEnforcement, type EnforceableSection } from '../../schema/enforcement.ts';
import type { RuntimePolicySpec } from '../../schema/runtime-policies.ts';
import type { ScopeInput } from '../../schema/scopes.ts';
import { agentEnforcement, clusters, scopes } from '../../schema/tables/index.ts';
import { scopeCoversCluster } from '../bundles/bundle.compile.ts';
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
 * Per cluster: a section counts as enforced when every live admission replica enforces it (a request may reach any),
 * or every live node agent does (a pod may land on any node). Instances silent for `ENFORCEMENT_LIVE_MS` are listed
 * with `live: false` and do not count. Pure.
 */
export function deriveEnforcement(rows: Array<Omit<InstanceEnforcement, 'live'>>, now: Date): ClusterEnforcement {
  const instances = rows
    .map((r) => ({ ...r, reportedAt: new Date(r.reportedAt).toISOString(), live: now.getTime() - Date.parse(r.reportedAt) <= ENFORCEMENT_LIVE_MS }))
    .sort((a, b) => a.component.localeCompare(b.component) || a.instance.localeCompare(b.instance));
  const live = instances.filter((i) => i.live);
  const admission = intersect(live.filter((i) => i.component === 'admission').map((i) => i.sections));
  const node = intersect(live.filter((i) => i.component === 'node').map((i) => i.sections));
  const detect = new Set(live.filter((i) => i.component === 'node').flatMap((i) => i.detectOnly));
  return {
    sections: ENFORCEABLE_SECTIONS.filter((s) => admission.includes(s) || node.includes(s)),
    detectOnly: ENFORCEABLE_SECTIONS.filter((s) => detect.has(s)),
    instances,
  };
}

/** The enforcement of each of the tenant's clusters (all of them when `clusterIds` is absent). */
export async function loadEnforcement(tx: Tx, tenantId: string, now: Date, clusterIds?: string[]): Promise<Map<string, ClusterEnforcement>> {
  const where = clusterIds ? and(eq(agentEnforcement.tenantId, tenantId), inArray(agentEnforcement.clusterId, clusterIds)) : eq(agentEnforcement.tenantId, tenantId);
  const rows = clusterIds?.length === 0 ? [] : await tx.select().from(agentEnforcement).where(where);
  const byCluster = new Map<string, typeof rows>();
  for (const r of rows) byCluster.set(r.clusterId, [...(byCluster.get(r.clusterId) ?? []), r]);
  return new Map([...byCluster].map(([id, list]) => [id, deriveEnforcement(list, now)]));
}

/** One cluster where a policy enables sections its agents do not enforce. */
export interface NotEnforcedIn {
  clusterId: string;
  clusterName: string;
  sections: EnforceableSection[];
}

/**
 * Per policy: the clusters its scopes reach (enabled policies only) whose live agents do not enforce every section it
 * enables; a cluster with no live agent enforces nothing. Sections enforced only in detect-only fashion are missing.
 */
export async function notEnforcedIn(tx: Tx, tenantId: string, policies: Array<{ id: string; spec: RuntimePolicySpec }>, now: Date): Promise<Map<string, NotEnforcedIn[]>> {
  const out = new Map<string, NotEnforcedIn[]>(policies.map((p) => [p.id, []]));
  const wanted = policies.filter((p) => p.spec.enabled && ENFORCEABLE_SECTIONS.some((s) => p.spec[s].enabled));
  if (wanted.length === 0) return out;
  const scopeIds = [...new Set(wanted.flatMap((p) => p.spec.scopeIds))];
  // The policies' scopes and the tenant's clusters (by name) in one statement: two subqueries, each row as JSON.
  type Both = { scopes: Array<{ id: string; global: boolean; spec: ScopeInput }>; clusters: Array<{ id: string; name: string }> };
  const result = (await tx.execute(sql`select
      (select coalesce(json_agg(json_build_object('id', ${scopes.id}, 'global', ${scopes.global}, 'spec', ${scopes.spec})), '[]'::json)
        from ${scopes} where ${and(eq(scopes.tenantId, tenantId), inArray(scopes.id, scopeIds))}) as scopes,
      (select coalesce(json_agg(json_build_object('id', ${clusters.id}, 'name', ${clusters.name}) order by ${clusters.name}), '[]'::json)
        from ${clusters} where ${eq(clusters.tenantId, tenantId)}) as clusters`)) as unknown as { rows: Both[] };
  const both = result.rows[0]!;
  const scopeRows = both.scopes;
  const clusterRows = both.clusters;
  const scopeById = new Map(scopeRows.map((s) => [s.id, s]));
  const reached = new Map(wanted.map((p) => {
    const reach = p.spec.scopeIds.map((id) => scopeById.get(id)).filter((s) => s !== undefined);
    return [p.id, clusterRows.filter((c) => reach.some((s) => scopeCoversCluster(s, c.name)))];
  }));
  const clusterIds = [...new Set([...reached.values()].flat().map((c) => c.id))];
  // Most reads reach no cluster with a gap to compute: skip the enforcement query then.
  const enforcement = clusterIds.length > 0 ? await loadEnforcement(tx, tenantId, now, clusterIds) : new Map<string, ClusterEnforcement>();
  for (const p of wanted) {
    const enabled = ENFORCEABLE_SECTIONS.filter((s) => p.spec[s].enabled);
    for (const c of reached.get(p.id)!) {
      const enforced = enforcement.get(c.id)?.sections ?? [];
      const missing = enabled.filter((s) => !enforced.includes(s));
      if (missing.length > 0) out.get(p.id)!.push({ clusterId: c.id, clusterName: c.name, sections: missing });
    }
  }
  return out;
}
