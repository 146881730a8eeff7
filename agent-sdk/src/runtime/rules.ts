import type { BundleContentV1, BundleRuntimeProfile } from '../../../schema/bundle.ts';
import { ExecutableRule } from './executables.ts';
import { profileBindings, type PodInfo, type ProfileBinding } from './mapping.ts';
import type { RuntimeEvent } from './event.ts';
import { NetworkRule } from './network.ts';
import { ContainerPlan, EMPTY_PLAN } from './plan.ts';
import { podOf, type PodCache } from './pods.ts';

/** A runtime profile with its rules compiled (only the enabled ones). */
export interface CompiledProfile {
  id: string;
  name: string;
  source: BundleRuntimeProfile;
  executables?: ExecutableRule;
  ingress?: NetworkRule;
  egress?: NetworkRule;
}

export function compileProfile(p: BundleRuntimeProfile): CompiledProfile {
  return {
    id: p.id,
    name: p.name,
    source: p,
    ...(p.executables.enabled ? { executables: new ExecutableRule(p.executables.mode, p.executables.executables, p.executables.exclusions) } : {}),
    ...(p.ingress.enabled ? { ingress: new NetworkRule(p.ingress.allowed) } : {}),
    ...(p.egress.enabled ? { egress: new NetworkRule(p.egress.allowed) } : {}),
  };
}

/**
 * Everything decided from one bundle revision, compiled once when it activates: every runtime profile's matchers,
 * the FQDNs they list, and (filled lazily, bounded) which profiles apply to each container seen.
 */
export class RuntimeRules {
  readonly profiles = new Map<string, CompiledProfile>();
  /** Profiles whose rules could not be compiled (the bundle schema prevents it; kept for the status if it happens). */
  readonly errors: Array<{ profile: string; message: string }> = [];
  /** Per pod identity (labels, images, owners): its bindings and each container's plan. Bounded by `maxPods`. */
  readonly #byKey = new Map<string, PodEntry>();
  /** The same, by object: pods from the pod cache are the same object event after event, so no key is built. */
  #byPod = new WeakMap<PodInfo, PodEntry>();

  constructor(readonly bundle: BundleContentV1, readonly revision: number, private readonly maxPods = 10_000) {
    for (const p of bundle.runtimeProfiles) {
      try {
        this.profiles.set(p.id, compileProfile(p));
      } catch (err) {
        this.errors.push({ profile: p.name, message: err instanceof Error ? err.message : String(err) });
      }
    }
  }

  /** Every FQDN a profile lists (lower case), for the resolver. */
  fqdns(): Set<string> {
    const out = new Set<string>();
    for (const p of this.profiles.values()) for (const rule of [p.ingress, p.egress]) for (const f of rule?.fqdns ?? []) out.add(f.fqdn);
    return out;
  }

  /** Whether any policy maps any profile at all (without it, every event is allowed at once). */
  get active(): boolean {
    return this.bundle.policies.some((p) => p.enabled && p.containerRuntimeProfiles.enabled && p.containerRuntimeProfiles.mappings.length > 0);
  }

  /** The profiles bound to each container of a pod; cached per pod identity (labels and images included). */
  bindings(pod: PodInfo, now: Date): Map<string, ProfileBinding[]> {
    return this.#entry(pod, now).bindings;
  }

  /**
   * The compiled decision plan for an event's container: found by the pod (the pod cache's object when the API
   * knows the pod, else one built from the sensor's report) and the container name, compiled on first sight and
   * kept until the pod changes (the cache then holds a new object), `clearBindings`, or the next bundle revision
   * (a new `RuntimeRules`). An event without a container name (Falco) gets the plan of all the pod's containers.
   *
   * @example
   * ```ts
   * const decision = rules.planFor(event, new Date(), pods).decide(event, resolver);
   * ```
   */
  planFor(event: RuntimeEvent, now: Date, pods?: PodCache): ContainerPlan {
    const c = event.container;
    const entry = this.#entry(podOf(event, pods), now);
    if (!c.container) return entry.all;
    return entry.plans.get(c.container) ?? EMPTY_PLAN;
  }

  #entry(pod: PodInfo, now: Date): PodEntry {
    let found = this.#byPod.get(pod);
    if (found) return found;
    const key = podKey(pod);
    found = this.#byKey.get(key);
    if (!found) {
      const bindings = profileBindings(this.bundle, pod, now);
      const plans = new Map<string, ContainerPlan>();
      for (const [container, list] of bindings) plans.set(container, new ContainerPlan(list, this.profiles));
      found = { bindings, plans, all: new ContainerPlan([...bindings.values()].flat(), this.profiles) };
      if (this.#byKey.size >= this.maxPods) this.#byKey.clear();
      this.#byKey.set(key, found);
    }
    this.#byPod.set(pod, found);
    return found;
  }

  /** Forgets cached bindings and plans (pods changed, or an exclusion may have expired). */
  clearBindings(): void {
    this.#byKey.clear();
    this.#byPod = new WeakMap();
  }
}

interface PodEntry {
  bindings: Map<string, ProfileBinding[]>;
  plans: Map<string, ContainerPlan>;
  all: ContainerPlan;
}

function podKey(pod: PodInfo): string {
  const labels = Object.keys(pod.labels).sort().map((k) => `${k}=${pod.labels[k]}`).join(',');
  const containers = pod.containers.map((c) => `${c.name}=${c.image}`).join(',');
  const owners = pod.owners.map((o) => `${o.kind}/${o.name}`).join(',');
  return `${pod.namespace}\u0000${pod.name}\u0000${labels}\u0000${containers}\u0000${owners}`;
}
