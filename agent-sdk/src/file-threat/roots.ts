import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** How the node agent reaches a container's filesystem from the host. */
export interface ContainerRoots {
  /** Host paths of the containers' root directories, by container id; ids not found are left out. */
  resolve(ids: readonly string[]): Promise<Map<string, string>>;
}

const HEX_ID = /^[0-9a-f]{12,128}$/;

/**
 * Through `/proc/<pid>/root` of one process of each container: the pid is found by the container id in
 * `/proc/<pid>/cgroup` (cgroup v1 `.../<id>`, v2 `.../cri-containerd-<id>.scope`, `crio-<id>`, `docker-<id>`). The
 * path goes through the container's own mount namespace, so its volumes are included. A pid stays cached while its
 * cgroup still names the container. `procDir` is injectable (tests build a tree standing in for `/proc`).
 *
 * @example
 * ```ts
 * const roots = await procRoots().resolve(['4f1c...']); // Map { '4f1c...' => '/proc/4242/root' }
 * ```
 */
export function procRoots(procDir = '/proc'): ContainerRoots {
  const pids = new Map<string, string>();
  const cgroupNames = async (pid: string, id: string) => {
    const text = await readFile(join(procDir, pid, 'cgroup'), 'utf8').catch(() => '');
    return namesContainer(text, id);
  };
  return {
    async resolve(ids) {
      const out = new Map<string, string>();
      const wanted = new Set(ids.filter((id) => HEX_ID.test(id)));
      for (const id of [...wanted]) {
        const pid = pids.get(id);
        if (pid && (await cgroupNames(pid, id))) {
          out.set(id, join(procDir, pid, 'root'));
          wanted.delete(id);
        } else pids.delete(id);
      }
      if (wanted.size === 0) return out;
      const entries = await readdir(procDir).catch(() => [] as string[]);
      for (const pid of entries) {
        if (wanted.size === 0) break;
        if (!/^\d+$/.test(pid)) continue;
        const text = await readFile(join(procDir, pid, 'cgroup'), 'utf8').catch(() => '');
        for (const id of wanted) {
          if (!namesContainer(text, id)) continue;
          pids.set(id, pid);
          out.set(id, join(procDir, pid, 'root'));
          wanted.delete(id);
          break;
        }
      }
      for (const id of [...pids.keys()]) if (!ids.includes(id)) pids.delete(id);
      return out;
    },
  };
}

/** Whether a `/proc/<pid>/cgroup` text places the process in the container `id` (the id as a whole path token). */
export function namesContainer(cgroup: string, id: string): boolean {
  for (let at = cgroup.indexOf(id); at >= 0; at = cgroup.indexOf(id, at + 1)) {
    const before = cgroup[at - 1] ?? '';
    const after = cgroup[at + id.length] ?? '';
    if (!/[0-9a-f]/.test(before) && !/[0-9a-f]/.test(after)) return true;
  }
  return false;
}

/**
 * A runtime's snapshot path per container (`{id}` replaced), e.g. containerd's
 * `/run/containerd/io.containerd.runtime.v2.task/k8s.io/{id}/rootfs`: the root filesystem only, without volumes.
 */
export function snapshotRoots(template: string): ContainerRoots {
  return {
    async resolve(ids) {
      const out = new Map<string, string>();
      for (const id of ids) {
        if (!HEX_ID.test(id)) continue;
        const path = template.replaceAll('{id}', id);
        if ((await stat(path).catch(() => undefined))?.isDirectory()) out.set(id, path);
      }
      return out;
    },
  };
}
