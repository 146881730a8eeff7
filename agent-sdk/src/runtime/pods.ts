import type { RuntimeEvent } from './event.ts';
import type { PodInfo } from './mapping.ts';

/**
 * The pods of this node as the Kubernetes API describes them (kept by the pod watch), so that owners and every
 * container's image are known even when a sensor reports less (Falco: no labels, no container name). Bounded.
 */
export class PodCache {
  /** In insertion order, for eviction. */
  readonly #pods = new Map<string, PodInfo>();
  /** Namespace → name → pod: `get` runs once per event, and two map reads cost less than building a key. */
  readonly #byNamespace = new Map<string, Map<string, PodInfo>>();

  constructor(private readonly max = 5000) {}

  get size(): number {
    return this.#pods.size;
  }

  set(pod: PodInfo): void {
    const key = `${pod.namespace}/${pod.name}`;
    if (!this.#pods.has(key) && this.#pods.size >= this.max) {
      const oldest = this.#pods.values().next().value!;
      this.delete(oldest.namespace, oldest.name);
    }
    this.#pods.set(key, pod);
    let names = this.#byNamespace.get(pod.namespace);
    if (!names) this.#byNamespace.set(pod.namespace, (names = new Map()));
    names.set(pod.name, pod);
  }

  delete(namespace: string, name: string): void {
    this.#pods.delete(`${namespace}/${name}`);
    const names = this.#byNamespace.get(namespace);
    if (names?.delete(name) && names.size === 0) this.#byNamespace.delete(namespace);
  }

  get(namespace: string, name: string): PodInfo | undefined {
    return this.#byNamespace.get(namespace)?.get(name);
  }

  all(): IterableIterator<PodInfo> {
    return this.#pods.values();
  }
}

/**
 * The pod an event happened in: the cached one when the API knows it (its labels and owners are authoritative),
 * otherwise one built from what the sensor reported (labels, the container and its image, the top-level workload).
 */
export function podOf(event: RuntimeEvent, cache?: PodCache): PodInfo {
  const c = event.container;
  const known = cache?.get(c.namespace, c.pod);
  if (known) return known;
  return {
    namespace: c.namespace,
    name: c.pod,
    labels: c.labels ?? {},
    owners: c.workload && c.workload.kind !== 'Pod' ? [c.workload] : [],
    containers: [{ name: c.container, image: c.image ?? '' }],
  };
}
