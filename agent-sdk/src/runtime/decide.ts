import type { Severity } from '../../../schema/audit-event.ts';
import type { PolicyMode } from '../../../schema/runtime-policies.ts';
import type { PolicyRef } from '../engine/types.ts';
import { parseIp, type ParsedIp } from './cidr.ts';
import type { RuntimeEvent } from './event.ts';
import type { ProfileBinding } from './mapping.ts';
import type { FqdnIndex } from './network.ts';
import type { CompiledProfile } from './rules.ts';

export type RuntimeCheck = 'containerRuntimeProfiles.executables' | 'containerRuntimeProfiles.egress' | 'containerRuntimeProfiles.ingress';

export interface RuntimeFinding {
  policy: PolicyRef;
  mode: PolicyMode;
  profile: { id: string; name: string };
  check: RuntimeCheck;
  message: string;
  severity: Severity;
}

export interface RuntimeDecision {
  /** `blocked`: an Enforce-mode profile forbids it; `alerted`: only Audit-mode ones do; `allowed`: none does. */
  verdict: 'allowed' | 'alerted' | 'blocked';
  findings: RuntimeFinding[];
}

/** Module-level, not a closure per call: the build names every function it creates, which costs per event. */
function host(a: string): string {
  return a.includes(':') ? `[${a}]` : a;
}

const ALLOWED: RuntimeDecision = Object.freeze({ verdict: 'allowed', findings: [] }) as RuntimeDecision;

function violation(event: RuntimeEvent, p: CompiledProfile, names: FqdnIndex | undefined, ip: ParsedIp | undefined): [RuntimeCheck, string, Severity] | undefined {
  if (event.type === 'exec') {
    if (!p.executables?.violates(event.process.binary)) return undefined;
    const how = p.executables.mode === 'blockListed' ? 'is block-listed' : 'is not allow-listed';
    return ['containerRuntimeProfiles.executables', `executable ${event.process.binary} ${how} by runtime profile "${p.name}"`, 'high'];
  }
  const rule = event.direction === 'egress' ? p.egress : p.ingress;
  if (!rule) return undefined;
  // Listed ports are the service's: the peer's for egress, the container's own (the local port) for ingress.
  const port = event.direction === 'egress' ? event.remote.port : (event.local?.port ?? -1);
  if (ip && rule.allows(ip, port, event.protocol, names)) return undefined;
  const what =
    event.direction === 'egress'
      ? `connection to ${host(event.remote.address)}:${port}/${event.protocol}`
      : `connection from ${host(event.remote.address)} to port ${port}/${event.protocol}`;
  return [`containerRuntimeProfiles.${event.direction}`, `${what} is not allowed by runtime profile "${p.name}"`, event.direction === 'egress' ? 'high' : 'medium'];
}

/**
 * Decides one runtime event against the profiles bound to its container. Pure (no I/O, no clock): every binding's
 * profiles are checked, each violation is a finding stamped with its policy and mode, and any Enforce-mode finding
 * makes the event `blocked`. A profile id the bundle does not hold is ignored (the bundle schema refers to existing
 * profiles only).
 *
 * @example
 * ```ts
 * const rules = new RuntimeRules(bundle, revision);
 * const decision = decideRuntimeEvent(event, rules.bindings(pod, now).get(event.container.container) ?? [], rules.profiles, resolver);
 * if (decision.verdict === 'blocked') enforce(event);
 * ```
 */
export function decideRuntimeEvent(event: RuntimeEvent, bindings: readonly ProfileBinding[], profiles: ReadonlyMap<string, CompiledProfile>, names?: FqdnIndex): RuntimeDecision {
  let findings: RuntimeFinding[] | undefined;
  // Parsed once per event, not once per profile.
  const ip = event.type === 'network' ? parseIp(event.remote.address) : undefined;
  for (const b of bindings) {
    for (const id of b.profileIds) {
      const p = profiles.get(id);
      if (!p) continue;
      const v = violation(event, p, names, ip);
      if (!v) continue;
      (findings ??= []).push({ policy: b.policy, mode: b.mode, profile: { id: p.id, name: p.name }, check: v[0], message: v[1], severity: v[2] });
    }
  }
  if (!findings) return ALLOWED;
  let verdict: RuntimeDecision['verdict'] = 'alerted';
  for (const f of findings) if (f.mode === 'enforce') verdict = 'blocked';
  return { verdict, findings };
}
