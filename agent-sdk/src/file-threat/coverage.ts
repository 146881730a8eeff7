import type { BundleContentV1 } from '../../../schema/bundle.ts';
import type { PolicyMode } from '../../../schema/runtime-policies.ts';
import { applyExclusions, policyCovers } from '../engine/applicability.ts';
import type { PolicyRef } from '../engine/types.ts';
import { podWorkload, profileBindings, type PodInfo } from '../runtime/mapping.ts';
import type { ContainerTarget } from './events.ts';

/** A policy that turns File Threat Protection on for a container: by its own section, or through a mapped profile. */
export interface FileThreatBinding {
  policy: PolicyRef;
  mode: PolicyMode;
  /** `policy`: the policy's File Threat Protection section; otherwise the id of the runtime profile that turns it on. */
  via: 'policy' | string;
}

/**
 * The containers of a pod that File Threat Protection covers, with the policies that cover each: an enabled policy
 * whose own section is on (every container its scopes and exclusions leave), or one mapping a runtime profile whose
 * File Threat Protection is on (the node agent's profile mapping). The admission engine's own scope and exclusion
 * code, so both mean what they mean at admission; owners are not trusted on nodes (see `profileBindings`). Pure.
 *
 * @example
 * ```ts
 * fileThreatCoverage(bundle, pod, new Date()).get('nginx'); // [{ policy, mode: 'enforce', via: 'policy' }]
 * ```
 */
export function fileThreatCoverage(bundle: BundleContentV1, pod: PodInfo, now: Date): Map<string, FileThreatBinding[]> {
  const out = new Map<string, FileThreatBinding[]>();
  const add = (container: string, b: FileThreatBinding) => {
    const list = out.get(container) ?? [];
    if (!list.some((x) => x.policy.id === b.policy.id)) list.push(b);
    out.set(container, list);
  };
  const { workload, all } = podWorkload(pod);
  for (const policy of bundle.policies) {
    if (!policy.enabled || !policy.fileThreatProtection.enabled || !policyCovers(policy, bundle.cluster.name, pod.namespace)) continue;
    const { skip, excluded } = applyExclusions(policy, workload, [], pod.namespace, all, now);
    if (skip) continue;
    for (const c of all) if (!excluded.has(c)) add(c.name, { policy: { id: policy.id, name: policy.name, revision: policy.revision }, mode: policy.mode, via: 'policy' });
  }
  const withFtp = new Set(bundle.runtimeProfiles.filter((p) => p.fileThreatProtection.enabled).map((p) => p.id));
  if (withFtp.size === 0) return out;
  for (const [container, bindings] of profileBindings(bundle, pod, now)) {
    for (const b of bindings) {
      const id = b.profileIds.find((p) => withFtp.has(p));
      if (id) add(container, { policy: b.policy, mode: b.mode, via: id });
    }
  }
  return out;
}

/** The covered containers of these pods whose runtime id is known, by id (a container not started yet has none). */
export function coveredContainers(bundle: BundleContentV1, pods: Iterable<PodInfo>, now: Date): Map<string, Omit<ContainerTarget, 'root'>> {
  const out = new Map<string, Omit<ContainerTarget, 'root'>>();
  for (const pod of pods) {
    for (const [container, bindings] of fileThreatCoverage(bundle, pod, now)) {
      const id = pod.containerIds?.[container];
      const image = pod.containers.find((c) => c.name === container)?.image ?? '';
      if (id) out.set(id, { id, namespace: pod.namespace, pod: pod.name, container, image, bindings });
    }
  }
  return out;
}
