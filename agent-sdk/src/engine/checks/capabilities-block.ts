import { canonicalCapability } from '../../../../schema/capabilities.ts';
import { list } from '../k8s.ts';
import type { Check, ContainerView, Violation } from '../types.ts';

/** A capability as the runtime reads it: letter case ignored, `CAP_` optional (containerd upper-cases and prefixes). */
export const capabilityName = (name: string) => canonicalCapability(name) ?? name.trim().toUpperCase().replace(/^CAP_/, '');

/**
 * What the container runtime grants a non-privileged container that drops nothing: containerd's `defaultUnixCaps`
 * (pkg/oci/spec.go), the same 14 as Docker's default set. A runtime configured to grant fewer only makes a required
 * drop redundant, never wrong.
 */
export const RUNTIME_DEFAULT_CAPABILITIES: readonly string[] = [
  'CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP', 'SETPCAP', 'NET_BIND_SERVICE',
  'SYS_CHROOT', 'KILL', 'AUDIT_WRITE',
];

const names = (value: unknown) => list<unknown>(value).filter((a): a is string => typeof a === 'string').map(capabilityName);

/** Why one container holds blocked capabilities, or nothing when it holds none. */
function problems(c: ContainerView, blocked: Set<string>, windows: boolean): string[] {
  if (windows) return []; // Windows containers have no Linux capabilities
  if (c.spec.securityContext?.privileged === true) return [`container "${c.name}" is privileged, which grants every capability, blocked ones included`];
  const caps = c.spec.securityContext?.capabilities;
  const out: string[] = [];
  const added = names(caps?.add).filter((cap) => cap === 'ALL' || blocked.has('ALL') || blocked.has(cap));
  if (added.length > 0) out.push(`container "${c.name}" adds blocked capabilities ${[...new Set(added)].join(', ')}`);
  const dropped = new Set(names(caps?.drop));
  if (dropped.has('ALL')) return out;
  const kept = RUNTIME_DEFAULT_CAPABILITIES.filter((cap) => (blocked.has('ALL') || blocked.has(cap)) && !dropped.has(cap));
  if (kept.length > 0)
    out.push(`container "${c.name}" does not drop blocked capabilities ${kept.join(', ')}, which the container runtime grants by default (${RUNTIME_DEFAULT_CAPABILITIES.join(', ')}); list them, or ALL, in securityContext.capabilities.drop`);
  return out;
}

/**
 * `capabilitiesBlock`: a container may hold no blocked capability. It holds one when it adds it
 * (`securityContext.capabilities.add`), when the runtime grants it by default (`RUNTIME_DEFAULT_CAPABILITIES`) and the
 * container does not drop it (or `ALL`), or when it is privileged. `ALL` in the list blocks every capability (so
 * every container must drop `ALL`); a container adding `ALL` is blocked whenever the list blocks anything. One
 * finding per container.
 */
export const capabilitiesBlockCheck: Check = {
  section: 'capabilitiesBlock',
  enabled: (p) => p.capabilitiesBlock.enabled && p.capabilitiesBlock.capabilities.length > 0,
  run(ctx, policy) {
    const blocked = new Set(policy.capabilitiesBlock.capabilities.map(capabilityName));
    const windows = ctx.spec.os?.name === 'windows';
    const out: Violation[] = [];
    for (const c of ctx.containers) {
      const found = problems(c, blocked, windows);
      if (found.length > 0) out.push({ check: 'capabilitiesBlock', container: c, message: found.join('; '), severity: 'high' });
    }
    return out;
  },
};
