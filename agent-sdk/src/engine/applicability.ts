import type { BundlePolicy } from '../../../schema/bundle.ts';
import { matchesImageTemplate } from '../../../schema/image-template.ts';
import { matchesMask } from '../../../schema/masks.ts';
import type { ContainerView } from './types.ts';
import type { Workload, WorkloadRef } from './workload.ts';

/**
 * Whether one of a policy's scopes covers a cluster and namespace: the global scope covers everything, a `cluster`
 * resource every namespace of the clusters its mask matches, a `namespace` resource that cluster and namespace.
 * Registry-only resources cover no workload.
 */
export function policyCovers(policy: BundlePolicy, cluster: string, namespace: string): boolean {
  return policy.scopes.some(
    (s) =>
      s.global ||
      s.resources.some((r) =>
        r.type === 'cluster' ? matchesMask(r.cluster, cluster) : r.type === 'namespace' ? matchesMask(r.cluster, cluster) && matchesMask(r.namespace, namespace) : false,
      ),
  );
}

export interface ExclusionOutcome {
  /** The exclusion that skips the whole workload for this policy. */
  skip?: WorkloadRef;
  /** Containers an `Image` exclusion removes from this policy's evaluation. */
  excluded: Set<ContainerView>;
}

/**
 * The policy's exclusions that hold for this workload. Only an enabled exclusions section counts, and an exclusion
 * with `expiresAt <= now` no longer does. `Namespace` matches the namespace name; `Pod`, `Deployment`, ... the
 * workload's kind and name or a trusted owner's (`*` masks) in a namespace matching `namespace` (a legacy exclusion
 * without one holds nowhere); `Image` a container's image by URL template (in `namespace`, if given), and removes just
 * that container: checks of the other containers and of the pod still apply. When every container is excluded by
 * image, the whole workload is skipped (nothing of it is left to evaluate).
 */
export function applyExclusions(policy: BundlePolicy, workload: Workload, owners: WorkloadRef[], namespace: string, containers: ContainerView[], now: Date): ExclusionOutcome {
  const excluded = new Set<ContainerView>();
  if (!policy.exclusions.enabled) return { excluded };
  const at = now.getTime();
  const self: WorkloadRef = { kind: workload.kind, name: workload.name };
  let lastImage: string | undefined;
  for (const e of policy.exclusions.items) {
    if (e.expiresAt !== undefined && !(Date.parse(e.expiresAt) > at)) continue;
    if (e.kind === 'Namespace') {
      if (matchesMask(e.name, namespace)) return { skip: { kind: e.kind, name: e.name }, excluded };
      continue;
    }
    // Fail closed: a workload exclusion must name its namespaces (documents from before `namespace` lack it).
    if (e.namespace === undefined ? e.kind !== 'Image' : !matchesMask(e.namespace, namespace)) continue;
    if (e.kind === 'Image') {
      for (const c of containers) {
        if (!c.ref || excluded.has(c) || !matchesImageTemplate(e.name, c.ref)) continue;
        excluded.add(c);
        lastImage = e.name;
      }
    } else if ([self, ...owners].some((r) => r.kind === e.kind && matchesMask(e.name, r.name))) {
      return { skip: { kind: e.kind, name: e.name }, excluded };
    }
  }
  if (containers.length > 0 && excluded.size === containers.length) return { skip: { kind: 'Image', name: lastImage! }, excluded };
  return { excluded };
}
