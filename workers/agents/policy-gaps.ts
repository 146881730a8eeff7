import { eq, sql, type SQL } from 'drizzle-orm';
import { ENFORCEABLE_SECTIONS, type AgentComponent, type EnforceableSection } from '../../schema/enforcement.ts';
import type { RuntimePolicySpec } from '../../schema/runtime-policies.ts';
import type { ScopeInput } from '../../schema/scopes.ts';
import { agentEnforcement, clusters, scopes } from '../../schema/tables/index.ts';
import { scopeCoversCluster } from '../bundles/bundle.compile.ts';
import { ENFORCEMENT_LIVE_MS, enforcedSections } from './enforcement.store.ts';

/** One cluster where a policy enables sections its agents do not enforce. */
export interface NotEnforcedIn {
  clusterId: string;
  clusterName: string;
  sections: EnforceableSection[];
}

/** A cluster as the gaps need it: its name, and the distinct (component, sections) its live instances report. */
export interface ClusterReports {
  id: string;
  name: string;
  live: Array<[AgentComponent, EnforceableSection[]]>;
}

export interface GapScope {
  id: string;
  global: boolean;
  spec: ScopeInput;
}

/** Whether a policy's gaps need reading anything: it is enabled and enables a section an agent enforces. */
export const mayHaveGaps = (spec: RuntimePolicySpec) => spec.enabled && ENFORCEABLE_SECTIONS.some((s) => spec[s].enabled);

/**
 * The tenant's clusters (by name), each with the distinct reports of its live instances, as one JSON value: a
 * subquery any statement can carry. Distinct reports are few per cluster (replicas and nodes report alike), so this
 * stays small where one row per node would not.
 */
export function clusterReportsSql(tenantId: string, now: Date): SQL<ClusterReports[]> {
  const e = agentEnforcement;
  const since = new Date(now.getTime() - ENFORCEMENT_LIVE_MS).toISOString();
  const live = sql`(select coalesce(jsonb_agg(distinct jsonb_build_array(${e.component}, ${e.sections})), '[]'::jsonb) from ${e}
    where ${e.tenantId} = ${tenantId} and ${e.clusterId} = ${clusters.id} and ${e.reportedAt} >= ${since})`;
  return sql`(select coalesce(json_agg(json_build_object('id', ${clusters.id}, 'name', ${clusters.name}, 'live', ${live}) order by ${clusters.name}), '[]'::json)
    from ${clusters} where ${eq(clusters.tenantId, tenantId)})`;
}

/**
 * Per policy: the clusters its scopes reach (enabled policies only) whose live agents do not enforce every section it
 * enables; a cluster with no live agent enforces nothing. Sections enforced only in detect-only fashion are missing.
 * Pure: `scopes` holds (at least) the policies' scopes, `clusters` every cluster of the tenant.
 */
export function policyGaps(policies: ReadonlyArray<{ id: string; spec: RuntimePolicySpec }>, scopeRows: readonly GapScope[], clusterRows: readonly ClusterReports[]): Map<string, NotEnforcedIn[]> {
  const out = new Map<string, NotEnforcedIn[]>(policies.map((p) => [p.id, []]));
  const scopeById = new Map(scopeRows.map((s) => [s.id, s]));
  const enforced = new Map<string, EnforceableSection[]>();
  const enforcedIn = (c: ClusterReports) => {
    let sections = enforced.get(c.id);
    if (!sections) enforced.set(c.id, (sections = enforcedSections(c.live.map(([component, s]) => ({ component, sections: s })))));
    return sections;
  };
  for (const p of policies.filter((x) => mayHaveGaps(x.spec))) {
    const reach = p.spec.scopeIds.map((id) => scopeById.get(id)).filter((s) => s !== undefined);
    const enabled = ENFORCEABLE_SECTIONS.filter((s) => p.spec[s].enabled);
    for (const c of clusterRows.filter((x) => reach.some((s) => scopeCoversCluster(s, x.name)))) {
      const sections = enabled.filter((s) => !enforcedIn(c).includes(s));
      if (sections.length > 0) out.get(p.id)!.push({ clusterId: c.id, clusterName: c.name, sections });
    }
  }
  return out;
}

/**
 * What `gapsOf` needs of stored policies, as one JSON value for the statement that reads them: the scopes they name
 * (from `rows`, the CTE holding the policies' rows) and the tenant's clusters with their reports.
 */
export function policyGapsSql(tenantId: string, rows: object, now: Date): SQL<{ scopes: GapScope[]; clusters: ClusterReports[] }> {
  const named = sql`select (jsonb_array_elements_text(p.spec -> 'scopeIds'))::uuid from ${rows} p`;
  return sql`json_build_object(
    'scopes', (select coalesce(json_agg(json_build_object('id', s.id, 'global', s.global, 'spec', s.spec)), '[]'::json)
      from ${scopes} s where s.tenant_id = ${tenantId} and s.id in (${named})),
    'clusters', ${clusterReportsSql(tenantId, now)})`;
}

/** `policyGaps` from what `policyGapsSql` read. */
export function gapsOf(policies: ReadonlyArray<{ id: string; spec: RuntimePolicySpec }>, value: unknown): Map<string, NotEnforcedIn[]> {
  const read = (value ?? { scopes: [], clusters: [] }) as { scopes: GapScope[]; clusters: ClusterReports[] };
  return policyGaps(policies, read.scopes, read.clusters);
}
