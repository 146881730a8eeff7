import { mountedBy } from '../containers.ts';
import { list, type Volume } from '../k8s.ts';
import { normalizeHostPath, pathWithin } from '../paths.ts';
import type { Check, Violation } from '../types.ts';

/**
 * `volumesBlocked`: hostPath volumes against the blocked paths, both normalized (`/etc` blocks `/etc`, `/etc/`,
 * `/etc/ssh` and `/etc/../etc/ssh`, not `/etcd`). A hostPath that contains a blocked path is blocked too (`/` or
 * `/etc` when `/etc/ssh` is blocked), since the blocked path is reachable through it. Reported on each evaluated
 * container that mounts the volume, or on the pod when none does.
 */
export const volumesBlockedCheck: Check = {
  section: 'volumesBlocked',
  enabled: (p) => p.volumesBlocked.enabled && p.volumesBlocked.paths.length > 0,
  run(ctx, policy) {
    const blocked = policy.volumesBlocked.paths.map(normalizeHostPath);
    const out: Violation[] = [];
    for (const v of list<Volume>(ctx.spec.volumes)) {
      const raw = v?.hostPath?.path;
      if (typeof raw !== 'string') continue;
      const path = normalizeHostPath(raw);
      const hit = blocked.find((b) => pathWithin(path, b) || pathWithin(b, path));
      if (hit === undefined) continue;
      for (const container of mountedBy(ctx, String(v.name ?? '')))
        out.push({ check: 'volumesBlocked', container, message: `volume "${v.name}" mounts host path ${raw}, blocked by ${hit}`, severity: 'high' });
    }
    return out;
  },
};
