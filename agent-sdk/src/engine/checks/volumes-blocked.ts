import { mountedBy } from '../containers.ts';
import { list, type Volume } from '../k8s.ts';
import { blockedBy } from '../paths.ts';
import type { Check, Violation } from '../types.ts';

/**
 * `volumesBlocked`: hostPath volumes against the blocked paths, both normalized (`/etc` blocks `/etc`, `/etc/`,
 * `/etc/ssh` and `/etc/../etc/ssh`, not `/etcd`). A hostPath that contains a blocked path is blocked too (`/` or
 * `/etc` when `/etc/ssh` is blocked), since the blocked path is reachable through it. Reported on each evaluated
 * container that mounts the volume, or on the pod when none does. Aliases count (`resolveHostPath`): `/proc/1/root/etc`
 * and `/var/run/../etc` are `/etc`, `/var/run/containerd` is `/run/containerd`; `/proc`, `/proc/<pid>` and a process's
 * `cwd`/`fd` may reach any file and are blocked by any list. A path check cannot see symlinks or bind mounts made on
 * the node (now or later): block the directory that holds them too (see the engine README).
 */
export const volumesBlockedCheck: Check = {
  section: 'volumesBlocked',
  enabled: (p) => p.volumesBlocked.enabled && p.volumesBlocked.paths.length > 0,
  run(ctx, policy) {
    const blocked = policy.volumesBlocked.paths;
    const out: Violation[] = [];
    for (const v of list<Volume>(ctx.spec.volumes)) {
      const raw = v?.hostPath?.path;
      if (typeof raw !== 'string') continue;
      const hit = blockedBy(raw, blocked);
      if (hit === undefined) continue;
      for (const container of mountedBy(ctx, String(v.name ?? '')))
        out.push({ check: 'volumesBlocked', container, message: `volume "${v.name}" mounts host path ${raw}, which reaches the blocked path ${hit}`, severity: 'high' });
    }
    return out;
  },
};
