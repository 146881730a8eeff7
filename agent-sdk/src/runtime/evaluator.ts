import type { RuntimeDecision } from './decide.ts';
import type { RuntimeEvent } from './event.ts';
import type { FqdnIndex } from './network.ts';
import type { PodCache } from './pods.ts';
import type { RuntimeRules } from './rules.ts';

/**
 * One event against the active rules: which profiles apply (the admission mapping), then the decision, through the
 * container's plan compiled once per container and bundle revision (`RuntimeRules.planFor`). Pure apart from the
 * bounded caches inside `rules`; `now` only matters when a container's plan is compiled (exclusions' expiry).
 *
 * @example
 * ```ts
 * const decision = evaluateRuntimeEvent(event, rules, new Date(), pods, resolver);
 * ```
 */
export function evaluateRuntimeEvent(event: RuntimeEvent, rules: RuntimeRules, now: Date, pods?: PodCache, names?: FqdnIndex): RuntimeDecision {
  return rules.planFor(event, now, pods).decide(event, names);
}
