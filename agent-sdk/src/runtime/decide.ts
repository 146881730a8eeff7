import type { Severity } from '../../../schema/audit-event.ts';
import type { PolicyMode } from '../../../schema/runtime-policies.ts';
import type { PolicyRef } from '../engine/types.ts';
import type { RuntimeEvent } from './event.ts';
import type { ProfileBinding } from './mapping.ts';
import type { FqdnIndex } from './network.ts';
import { ContainerPlan } from './plan.ts';
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

/**
 * Decides one runtime event against the profiles bound to its container. Pure (no I/O, no clock): every binding's
 * profiles are checked, each violation is a finding stamped with its policy and mode, and any Enforce-mode finding
 * makes the event `blocked`. A profile id the bundle does not hold is ignored (the bundle schema refers to existing
 * profiles only). This compiles a `ContainerPlan` per call; the node agent keeps one per container instead
 * (`RuntimeRules.planFor`).
 *
 * @example
 * ```ts
 * const rules = new RuntimeRules(bundle, revision);
 * const decision = decideRuntimeEvent(event, rules.bindings(pod, now).get(event.container.container) ?? [], rules.profiles, resolver);
 * if (decision.verdict === 'blocked') enforce(event);
 * ```
 */
export function decideRuntimeEvent(event: RuntimeEvent, bindings: readonly ProfileBinding[], profiles: ReadonlyMap<string, CompiledProfile>, names?: FqdnIndex): RuntimeDecision {
  return new ContainerPlan(bindings, profiles).decide(event, names);
}
