import type { BundleContentV1 } from '../../../schema/bundle.ts';
import type { PolicyMode } from '../../../schema/runtime-policies.ts';
import { applyExclusions, policyCovers } from '../engine/applicability.ts';
import { containerViews } from '../engine/containers.ts';
import { addRuntimeProfiles } from '../engine/runtime-profiles.ts';
import type { CheckContext, PolicyRef } from '../engine/types.ts';
import { extractWorkload } from '../engine/workload.ts';

/** A pod as the node agent knows it: from the Kubernetes API (its pod cache) or, failing that, from the sensor. */
export interface PodInfo {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  /** Owners (`ReplicaSet x-abc`, or the top-level workload a sensor reports), for workload exclusions. */
  owners: Array<{ kind: string; name: string }>;
  containers: Array<{ name: string; image: string }>;
  /** Runtime container ids by container name (`containerd://<id>` in the pod status, scheme removed), when known. */
  containerIds?: Record<string, string>;
}

/** One policy applying runtime profiles to one container. */
export interface ProfileBinding {
  policy: PolicyRef;
  mode: PolicyMode;
  profileIds: string[];
}

/**
 * Which runtime profiles apply to each container of a pod, per policy and with its mode: the admission engine's own
 * code (`policyCovers`, `applyExclusions`, `addRuntimeProfiles`), so pod labels, image URL templates (Docker Hub
 * short names included), scopes, exclusions and modes mean on the node exactly what they mean at admission.
 * Pure; `now` is when exclusions expire against.
 *
 * @example
 * ```ts
 * const bindings = profileBindings(bundle, { namespace: 'shop', name: 'web-1', labels: { app: 'web' }, owners: [], containers: [{ name: 'nginx', image: 'nginx:1.25' }] }, new Date());
 * bindings.get('nginx'); // [{ policy, mode: 'enforce', profileIds: [...] }]
 * ```
 */
export function profileBindings(bundle: BundleContentV1, pod: PodInfo, now: Date): Map<string, ProfileBinding[]> {
  const { workload, all } = podWorkload(pod);
  const out = new Map<string, ProfileBinding[]>();
  for (const policy of bundle.policies) {
    if (!policy.enabled || !policy.containerRuntimeProfiles.enabled) continue;
    if (!policyCovers(policy, bundle.cluster.name, pod.namespace)) continue;
    const { skip, excluded } = applyExclusions(policy, workload, [], pod.namespace, all, now);
    if (skip) continue;
    const ctx: CheckContext = { bundle, workload, spec: workload.spec, containers: all.filter((c) => !excluded.has(c)), allContainers: all };
    const ids = new Map<string, string[]>();
    addRuntimeProfiles(ids, policy, ctx);
    for (const [container, profileIds] of ids) {
      const list = out.get(container) ?? [];
      list.push({ policy: { id: policy.id, name: policy.name, revision: policy.revision }, mode: policy.mode, profileIds });
      out.set(container, list);
    }
  }
  return out;
}

/**
 * The pod as the admission engine sees a workload, and its containers. No ownerReferences: a pod's author can write
 * any owner into it, and a node agent cannot tell who created the pod (the admission webhook trusts owners only from
 * Kubernetes' controllers). Until owners are verified against the API, workload exclusions by owner (Deployment, Job,
 * ...) do not take pods out of what node agents enforce: fail closed.
 */
export function podWorkload(pod: PodInfo): { workload: NonNullable<ReturnType<typeof extractWorkload>>; all: ReturnType<typeof containerViews> } {
  const object = {
    kind: 'Pod',
    metadata: { name: pod.name, namespace: pod.namespace, labels: pod.labels },
    spec: { containers: pod.containers.map((c) => ({ name: c.name, image: c.image })) },
  };
  const workload = extractWorkload(object)!;
  return { workload, all: containerViews(workload.spec) };
}
