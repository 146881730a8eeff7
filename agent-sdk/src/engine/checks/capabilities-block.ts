import { canonicalCapability } from '../../../../schema/capabilities.ts';
import { list } from '../k8s.ts';
import type { Check, Violation } from '../types.ts';

/** A capability as the runtime reads it: letter case ignored, `CAP_` optional (containerd upper-cases and prefixes). */
export const capabilityName = (name: string) => canonicalCapability(name) ?? name.trim().toUpperCase().replace(/^CAP_/, '');

/**
 * `capabilitiesBlock`: `securityContext.capabilities.add` against the blocked list. `ALL` in the list blocks every
 * added capability; a container adding `ALL` is blocked whenever the list blocks anything.
 */
export const capabilitiesBlockCheck: Check = {
  section: 'capabilitiesBlock',
  enabled: (p) => p.capabilitiesBlock.enabled && p.capabilitiesBlock.capabilities.length > 0,
  run(ctx, policy) {
    const blocked = new Set(policy.capabilitiesBlock.capabilities.map(capabilityName));
    const out: Violation[] = [];
    for (const c of ctx.containers) {
      const hits = list<unknown>(c.spec.securityContext?.capabilities?.add)
        .filter((a): a is string => typeof a === 'string')
        .map(capabilityName)
        .filter((cap) => cap === 'ALL' || blocked.has('ALL') || blocked.has(cap));
      if (hits.length > 0) out.push({ check: 'capabilitiesBlock', container: c, message: `container "${c.name}" adds blocked capabilities ${[...new Set(hits)].join(', ')}`, severity: 'high' });
    }
    return out;
  },
};
