import type { BundlePolicy } from '../../../../schema/bundle.ts';
import type { EnforceableSection } from '../../../../schema/enforcement.ts';
import { matchesMask } from '../../../../schema/masks.ts';
import type { ExclusionOutcome } from '../applicability.ts';
import { notEnforcedSections } from '../enforcement.ts';
import type { ContainerView, PolicyRef } from '../types.ts';
import type { Workload, WorkloadRef } from '../workload.ts';
import type { CheckTable, SharedCheck } from './checks.ts';
import { matchesTemplate } from './images.ts';

/** A scope resource as `policyCovers` reads it: `cluster` or `namespace` masks (registry-only resources cover nothing). */
type Cover = { cluster: string; namespace?: string };

interface Exclusion {
  kind: string;
  name: string;
  namespace?: string;
  /** `Date.parse(expiresAt)` (NaN for an unreadable date: expired, as in `applyExclusions`); undefined when none. */
  expires?: number;
}

/** A runtime-profile mapping with its label pairs listed once. */
interface Mapping {
  labels: Array<[string, string]>;
  templates: string[];
  profileIds: string[];
}

/** Everything about one policy that does not depend on the pod, prepared once per bundle revision. */
export interface CompiledPolicy {
  policy: BundlePolicy;
  /** Shared by every decision of the compiled bundle (frozen: decisions must not change it). */
  ref: PolicyRef;
  /** True for a global scope; else the resources that may cover a cluster and namespace. */
  global: boolean;
  covers: Cover[];
  exclusions: Exclusion[];
  checks: SharedCheck[];
  notEnforced: EnforceableSection[];
  /** Policies with the same checks and sections not enforced share one `rules` list per decision when nothing is excluded. */
  rulesGroup: number;
  mappings: Mapping[];
  /** Index into the per-decision memo of the mapping targets (policies with equal mappings share it). */
  mappingSlot: number;
}

/** Numbers equal keys alike: the slots of a bundle's shared per-decision results. */
export class Slots {
  readonly #ids = new Map<string, number>();
  get size(): number {
    return this.#ids.size;
  }
  of(key: string): number {
    let id = this.#ids.get(key);
    if (id === undefined) this.#ids.set(key, (id = this.#ids.size));
    return id;
  }
}

export function compilePolicy(policy: BundlePolicy, table: CheckTable, rulesGroups: Slots, mappingSlots: Slots): CompiledPolicy {
  const covers: Cover[] = [];
  let global = false;
  for (const s of policy.scopes) {
    if (s.global) global = true;
    for (const r of s.resources) {
      if (r.type === 'cluster') covers.push({ cluster: r.cluster });
      else if (r.type === 'namespace') covers.push({ cluster: r.cluster, namespace: r.namespace });
    }
  }
  const checks = policy.enabled ? table.forPolicy(policy) : [];
  const notEnforced = notEnforcedSections(policy);
  const mappings = policy.containerRuntimeProfiles.enabled
    ? policy.containerRuntimeProfiles.mappings.map((m) => ({ labels: Object.entries(m.podLabels ?? {}), templates: m.imageUrlTemplates ?? [], profileIds: m.profileIds }))
    : [];
  return {
    policy,
    ref: Object.freeze({ id: policy.id, name: policy.name, revision: policy.revision }),
    global,
    covers,
    exclusions: policy.exclusions.enabled
      ? policy.exclusions.items.map((e) => ({ kind: e.kind, name: e.name, ...(e.namespace !== undefined ? { namespace: e.namespace } : {}), ...(e.expiresAt !== undefined ? { expires: Date.parse(e.expiresAt) } : {}) }))
      : [],
    checks,
    notEnforced,
    rulesGroup: rulesGroups.of(JSON.stringify([checks.map((c) => c.slot), notEnforced])),
    mappings,
    mappingSlot: mappingSlots.of(JSON.stringify(mappings)),
  };
}

/** `policyCovers`, on the prepared scopes. */
export function covers(p: CompiledPolicy, cluster: string, namespace: string): boolean {
  if (p.global) return true;
  for (const c of p.covers) if (matchesMask(c.cluster, cluster) && (c.namespace === undefined || matchesMask(c.namespace, namespace))) return true;
  return false;
}

const NONE: ExclusionOutcome = Object.freeze({ excluded: new Set<ContainerView>() }) as ExclusionOutcome;

/** `applyExclusions`, on the prepared exclusions. The result for a policy without exclusions is shared and empty. */
export function exclusions(p: CompiledPolicy, workload: Workload, owners: WorkloadRef[], namespace: string, containers: ContainerView[], at: number): ExclusionOutcome {
  if (p.exclusions.length === 0) return NONE;
  let excluded: Set<ContainerView> | undefined;
  let lastImage: string | undefined;
  for (const e of p.exclusions) {
    if (e.expires !== undefined && !(e.expires > at)) continue;
    if (e.kind === 'Namespace') {
      if (matchesMask(e.name, namespace)) return { skip: { kind: e.kind, name: e.name }, excluded: excluded ?? new Set() };
      continue;
    }
    if (e.namespace === undefined ? e.kind !== 'Image' : !matchesMask(e.namespace, namespace)) continue;
    if (e.kind === 'Image') {
      for (const c of containers) {
        if (!c.ref || excluded?.has(c) || !matchesTemplate(c, e.name)) continue;
        (excluded ??= new Set()).add(c);
        lastImage = e.name;
      }
    } else if ((e.kind === workload.kind && matchesMask(e.name, workload.name)) || owners.some((r) => r.kind === e.kind && matchesMask(e.name, r.name))) {
      return { skip: { kind: e.kind, name: e.name }, excluded: excluded ?? new Set() };
    }
  }
  if (excluded === undefined) return NONE;
  if (containers.length > 0 && excluded.size === containers.length) return { skip: { kind: 'Image', name: lastImage! }, excluded };
  return { excluded };
}

/**
 * The containers each mapping of a policy targets, as `addRuntimeProfiles` picks them: every container when all the
 * mapping's label pairs are on the pod, else those whose image matches one of its templates.
 */
export function mappingTargets(p: CompiledPolicy, workload: Workload, containers: ContainerView[]): ContainerView[][] {
  return p.mappings.map((m) =>
    m.labels.length > 0
      ? m.labels.every(([k, v]) => workload.labels[k] === v) ? containers : []
      : containers.filter((c) => c.ref !== undefined && m.templates.some((t) => matchesTemplate(c, t))),
  );
}

/** Adds a policy's profile ids to the targeted containers, each id once per container, in order. */
export function addProfiles(into: Map<string, string[]>, p: CompiledPolicy, targets: ContainerView[][]): void {
  for (let i = 0; i < p.mappings.length; i++) {
    const profileIds = p.mappings[i]!.profileIds;
    for (const c of targets[i]!) {
      const ids = into.get(c.name) ?? [];
      for (const id of profileIds) if (!ids.includes(id)) ids.push(id);
      into.set(c.name, ids);
    }
  }
}
