import type { PodInfo } from './mapping.ts';
import type { RuntimeRules } from './rules.ts';
import { compileTracingPolicy } from './tracing-policy.ts';

/** Labels that differ per rollout, not per workload: left out of selectors so a rollout does not need new objects. */
const ROLLOUT_LABELS = new Set(['pod-template-hash', 'controller-revision-hash', 'statefulset.kubernetes.io/pod-name', 'apps.kubernetes.io/pod-index']);

export interface PolicyPlan {
  /** Desired objects by name. */
  objects: Map<string, Record<string, unknown>>;
  /** What the kernel objects leave to user space, per profile name (deduplicated). */
  userSpace: Map<string, string[]>;
  /** Pods with profiles but no labels to select them by: decided in user space only. */
  unselectable: string[];
}

/**
 * The Tetragon policies this node should have: for every pod of the node, the profiles bound to each container
 * (the admission mapping, with scopes, exclusions and modes), grouped into one object per profile, mode, namespace,
 * pod labels and container names. Selecting by the pod's own labels (minus rollout hashes) plus container names
 * keeps image-template mappings and workload exclusions exact for the pods that exist; pods of other workloads that
 * carry the very same labels would be selected too (the agent's user-space decision stays exact). Pure.
 */
export function planTracingPolicies(rules: RuntimeRules, pods: Iterable<PodInfo>, node: string, now: Date, resolved?: (fqdn: string) => string[]): PolicyPlan {
  const plan: PolicyPlan = { objects: new Map(), userSpace: new Map(), unselectable: [] };
  for (const pod of pods) {
    const matchLabels = Object.fromEntries(Object.entries(pod.labels).filter(([k]) => !ROLLOUT_LABELS.has(k)));
    // An empty selector would pick every pod of the namespace: such pods are left to user space.
    if (Object.keys(matchLabels).length === 0) {
      if (rules.bindings(pod, now).size > 0) plan.unselectable.push(`${pod.namespace}/${pod.name}`);
      continue;
    }
    // profile + mode → containers of this pod it applies to
    const wanted = new Map<string, { profileId: string; mode: 'audit' | 'enforce'; containers: Set<string> }>();
    for (const [container, bindings] of rules.bindings(pod, now)) {
      for (const b of bindings) {
        for (const profileId of b.profileIds) {
          const key = `${profileId} ${b.mode}`;
          const entry = wanted.get(key) ?? { profileId, mode: b.mode, containers: new Set<string>() };
          entry.containers.add(container);
          wanted.set(key, entry);
        }
      }
    }
    for (const { profileId, mode, containers } of wanted.values()) {
      const profile = rules.profiles.get(profileId);
      if (!profile) continue;
      const all = containers.size === pod.containers.length;
      const compiled = compileTracingPolicy(profile.source, mode, { namespace: pod.namespace, matchLabels, ...(all ? {} : { containers: [...containers] }), node }, { ...(resolved ? { resolved } : {}) });
      if (!compiled) continue;
      plan.objects.set((compiled.object.metadata as { name: string }).name, compiled.object);
      if (compiled.userSpace.length) plan.userSpace.set(profile.name, [...new Set([...(plan.userSpace.get(profile.name) ?? []), ...compiled.userSpace])]);
    }
  }
  return plan;
}
