import type { BundleContentV1, BundleRuntimeProfile } from '../../../schema/bundle.ts';
import { ExecutableRule } from './executables.ts';
import { profileBindings, type PodInfo, type ProfileBinding } from './mapping.ts';
import { NetworkRule } from './network.ts';

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
  readonly #bindings = new Map<string, Map<string, ProfileBinding[]>>();
  /** The same, by object: pods from the pod cache are the same object event after event, so no key is built. */
  #byPod = new WeakMap<PodInfo, Map<string, ProfileBinding[]>>();

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
    let found = this.#byPod.get(pod);
    if (found) return found;
    const key = podKey(pod);
    found = this.#bindings.get(key);
    if (!found) {
      found = profileBindings(this.bundle, pod, now);
      if (this.#bindings.size >= this.maxPods) this.#bindings.clear();
      this.#bindings.set(key, found);
    }
    this.#byPod.set(pod, found);
    return found;
  }

  /** Forgets cached bindings (pods changed, or an exclusion may have expired). */
  clearBindings(): void {
    this.#bindings.clear();
    this.#byPod = new WeakMap();
  }
}

function podKey(pod: PodInfo): string {
  const labels = Object.keys(pod.labels).sort().map((k) => `${k}=${pod.labels[k]}`).join(',');
  const containers = pod.containers.map((c) => `${c.name}=${c.image}`).join(',');
  const owners = pod.owners.map((o) => `${o.kind}/${o.name}`).join(',');
  return `${pod.namespace}\u0000${pod.name}\u0000${labels}\u0000${containers}\u0000${owners}`;
}
