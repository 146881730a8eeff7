import { parseImageReference } from '../../../schema/image-reference.ts';
import { list, type ContainerSpec, type PodSpec } from './k8s.ts';
import type { CheckContext, ContainerType, ContainerView } from './types.ts';

const TYPES: Array<[keyof PodSpec, ContainerType]> = [
  ['initContainers', 'initContainer'],
  ['containers', 'container'],
  ['ephemeralContainers', 'ephemeralContainer'],
];

/** Every container, init container and ephemeral container (in the order Pod Security Admission visits them), images parsed. */
export function containerViews(spec: PodSpec): ContainerView[] {
  const out: ContainerView[] = [];
  for (const [field, type] of TYPES) {
    for (const c of list<ContainerSpec>(spec[field])) {
      if (c === null || typeof c !== 'object') continue;
      const image = typeof c.image === 'string' ? c.image : '';
      const view: ContainerView = { name: typeof c.name === 'string' ? c.name : '', type, spec: c, image };
      try {
        view.ref = parseImageReference(image);
      } catch (err) {
        view.imageError = err instanceof Error ? err.message : String(err);
      }
      out.push(view);
    }
  }
  return out;
}

/**
 * Where a pod-level object (a volume) shows up: the evaluated containers that mount it, or `[undefined]` (one
 * pod-level finding) when no container of the pod mounts it. A volume mounted only by excluded containers yields none.
 */
export function mountedBy(ctx: CheckContext, volume: string): Array<ContainerView | undefined> {
  const users = mountIndex(ctx.containers).get(volume);
  if (users !== undefined) return users;
  return mountIndex(ctx.allContainers).has(volume) ? [] : [undefined];
}

const mountIndexes = new WeakMap<ContainerView[], Map<string, ContainerView[]>>();

/** Volume name → the containers (in order, each once) that mount it; built once per container list, not per volume. */
function mountIndex(containers: ContainerView[]): Map<string, ContainerView[]> {
  let index = mountIndexes.get(containers);
  if (!index) {
    index = new Map();
    for (const c of containers) {
      for (const name of new Set(list<{ name?: unknown }>(c.spec.volumeMounts).map((m) => m?.name))) {
        if (typeof name !== 'string') continue;
        const users = index.get(name);
        if (users) users.push(c);
        else index.set(name, [c]);
      }
    }
    mountIndexes.set(containers, index);
  }
  return index;
}
