import { sql, type SQL } from 'drizzle-orm';
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
 * The tenant's clusters some scope of `scopeRows` (a select of `global` and `spec` columns) reaches, each with the
 * distinct reports of its live instances, as one JSON value: a subquery any statement can carry. Reach is decided
 * here by LIKE, a mask's `*` as `%` with no escape character: masks hold only `[-a-z0-9.*]`, so it selects what
 * `matchesMask` does (a stray `%` or `_` would only widen it), and `policyGaps` decides each policy's reach exactly.
 * Distinct reports are few per cluster (replicas and nodes report alike), so this stays small where one row per
 * node would not, and only reached clusters have their reports read.
 */
export function clusterReportsSql(tenantId: string, scopeRows: SQL, now: Date): SQL<ClusterReports[]> {
  const since = new Date(now.getTime() - ENFORCEMENT_LIVE_MS).toISOString();
  return sql`(select coalesce(json_agg(json_build_object('id', c.id, 'name', c.name, 'live', r.live) order by c.name), '[]'::json)
    from ${clusters} c
    cross join lateral (select coalesce(jsonb_agg(distinct jsonb_build_array(e.component, e.sections)), '[]'::jsonb) as live from ${agentEnforcement} e
      where e.tenant_id = ${tenantId} and e.cluster_id = c.id and e.reported_at >= ${since}) r
    where c.tenant_id = ${tenantId} and exists (select 1 from (${scopeRows}) s where s.global or exists (
      select 1 from jsonb_array_elements(s.spec -> 'resources') x where x ->> 'type' <> 'registry' and c.name like replace(x ->> 'cluster', '*', '%') escape '')))`;
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
 * What `gapsOf` needs of stored policies, as one JSON value for the statement that reads them (`rows`, the CTE holding
 * their rows): the scopes they name and the clusters those reach with their reports. Null when no row may have a gap
 * (`mayHaveGaps`), so a page of disabled policies reads nothing more.
 */
export function policyGapsSql(tenantId: string, rows: object, now: Date): SQL<{ scopes: GapScope[]; clusters: ClusterReports[] } | null> {
  const named = sql`select (jsonb_array_elements_text(p.spec -> 'scopeIds'))::uuid from ${rows} p`;
  // Uncorrelated, so Postgres computes it once per statement, not once per cluster the reach test looks at.
  const scopesJson = sql`(select coalesce(jsonb_agg(jsonb_build_object('id', s.id, 'global', s.global, 'spec', s.spec)), '[]'::jsonb)
    from ${scopes} s where s.tenant_id = ${tenantId} and s.id in (${named}))`;
  const scopeRows = sql`select (v ->> 'global')::boolean as global, v -> 'spec' as spec from jsonb_array_elements(${scopesJson}) v`;
  const anySection = sql.join(ENFORCEABLE_SECTIONS.map((k) => sql`p.spec -> ${k}::text ->> 'enabled' = 'true'`), sql` or `);
  return sql`case when exists (select 1 from ${rows} p where p.enabled and (${anySection})) then json_build_object(
    'scopes', ${scopesJson}, 'clusters', ${clusterReportsSql(tenantId, scopeRows, now)}) end`;
}

/** `policyGaps` from what `policyGapsSql` read. */
export function gapsOf(policies: ReadonlyArray<{ id: string; spec: RuntimePolicySpec }>, value: unknown): Map<string, NotEnforcedIn[]> {
  const read = (value ?? { scopes: [], clusters: [] }) as { scopes: GapScope[]; clusters: ClusterReports[] };
  return policyGaps(policies, read.scopes, read.clusters);
}
