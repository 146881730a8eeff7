import type { BundleContentV1, BundlePolicy } from '../../../schema/bundle.ts';
import { applyExclusions, policyCovers } from './applicability.ts';
import { CHECKS } from './checks/index.ts';
import { containerViews } from './containers.ts';
import { notEnforcedSections } from './enforcement.ts';
import { addRuntimeProfiles } from './runtime-profiles.ts';
import type { AdmissionInput, CheckContext, Decision, EvaluateOptions, Finding, PolicyRef, PolicyResult } from './types.ts';
import { workloadShapeProblems } from './spec-shape.ts';
import { DEFAULT_TRUSTED_CONTROLLERS, extractWorkload } from './workload.ts';

function runChecks(policy: BundlePolicy, ref: PolicyRef, ctx: CheckContext, findings: Finding[]): PolicyResult['rules'] {
  const rules: PolicyResult['rules'] = [];
  for (const check of CHECKS) {
    if (!check.enabled(policy)) continue;
    let violations;
    try {
      violations = check.run(ctx, policy);
    } catch (err) {
      // A check that cannot decide fails closed in Enforce mode rather than crashing the webhook.
      violations = [{ check: `${check.section}.error`, message: `check failed: ${err instanceof Error ? err.message : String(err)}`, severity: 'high' as const }];
    }
    rules.push({ check: check.section, status: violations.length ? 'fail' : 'pass' });
    for (const v of violations)
      findings.push({ policy: ref, mode: v.mode ?? policy.mode, check: v.check, container: v.container?.name, image: v.container?.image, ...(v.digest ? { digest: v.digest } : {}), message: v.message, severity: v.severity });
  }
  // Enabled sections no admission check enforces are `skip`, and listed in `decision.notEnforced`.
  for (const section of notEnforcedSections(policy)) rules.push({ check: section, status: 'skip' });
  return rules;
}

const denial = (findings: Finding[]) =>
  findings
    .filter((f) => f.mode === 'enforce')
    .map((f) => `policy "${f.policy.name}": ${f.check}${f.container ? ` (${f.container})` : ''}: ${f.message}`)
    .join('; ');

/**
 * Decides one admission request against a bundle. Pure: no I/O and no clock (time comes in `options.now`), so the
 * agent and the control plane's Worker run the same decision.
 *
 * A policy applies when it is enabled, one of its scopes covers the cluster and namespace, and none of its active
 * exclusions skips the workload; an `Image` exclusion takes just the matching containers out of that policy. Workload
 * exclusions hold in the namespaces they name, and match an owner only when a trusted controller sent the object
 * (`input.requester`), never because the object claims one. Every
 * violation is a finding; any Enforce-mode finding denies, Audit-mode ones only report.
 *
 * @example
 * ```ts
 * import { evaluate } from './engine/index.ts';
 *
 * const decision = evaluate(bundle, { object: admissionReview.request.object, namespace: 'shop' }, { now: new Date(), bundleRevision: 42 });
 * if (!decision.allowed) respond({ allowed: false, status: { code: 403, message: decision.message } });
 * for (const [container, profileIds] of Object.entries(decision.runtimeProfiles)) activate(container, profileIds);
 * ```
 */
export function evaluate(bundle: BundleContentV1, input: AdmissionInput, options: EvaluateOptions): Decision {
  const base = { bundleRevision: options.bundleRevision, findings: [] as Finding[], runtimeProfiles: {}, policies: [] as PolicyResult[] };
  const workload = extractWorkload(input.object);
  if (!workload) return { ...base, allowed: true };
  const namespace = input.namespace ?? workload.namespace ?? 'default';
  const ref = { kind: workload.kind, name: workload.name, namespace };
  // A field of the wrong type would read as absent (`privileged: "true"` as not privileged): refuse, whatever the mode.
  const malformed = workloadShapeProblems(input.object);
  if (malformed.length > 0)
    return { ...base, allowed: false, workload: ref, malformed, message: `${workload.kind} "${workload.name}" is malformed: ${malformed.map((p) => `${p.pointer}: ${p.message}`).join('; ')}` };
  const cluster = input.cluster ?? bundle.cluster.name;
  // ownerReferences are whatever the sender wrote: they name owners only when a controller sent the object.
  const trusted = input.requester !== undefined && (options.trustedControllers ?? DEFAULT_TRUSTED_CONTROLLERS).includes(input.requester);
  const owners = [...(trusted ? workload.owners : []), ...(input.owners ?? [])];
  const all = containerViews(workload.spec);
  const profiles = new Map<string, string[]>();
  const notEnforced: NonNullable<Decision['notEnforced']> = [];
  for (const policy of bundle.policies) {
    const ref: PolicyRef = { id: policy.id, name: policy.name, revision: policy.revision };
    const result: PolicyResult = { policy: ref, mode: policy.mode, status: 'skipped', rules: [] };
    base.policies.push(result);
    if (!policy.enabled) result.reason = 'disabled';
    else if (!policyCovers(policy, cluster, namespace)) result.reason = 'outOfScope';
    else {
      const { skip, excluded } = applyExclusions(policy, workload, owners, namespace, all, options.now);
      if (skip) [result.reason, result.exclusion] = ['excluded', skip];
      else {
        const ctx: CheckContext = { bundle, workload, spec: workload.spec, containers: all.filter((c) => !excluded.has(c)), allContainers: all, now: options.now, ...(input.signatures ? { signatures: input.signatures } : {}) };
        result.status = 'applied';
        if (excluded.size) result.excludedContainers = [...excluded].map((c) => c.name);
        result.rules = runChecks(policy, ref, ctx, base.findings);
        const sections = notEnforcedSections(policy);
        if (sections.length > 0) notEnforced.push({ policy: ref, mode: policy.mode, sections });
        addRuntimeProfiles(profiles, policy, ctx);
      }
    }
  }
  const allowed = !base.findings.some((f) => f.mode === 'enforce');
  return {
    ...base,
    allowed,
    runtimeProfiles: Object.fromEntries(profiles),
    workload: ref,
    ...(notEnforced.length > 0 ? { notEnforced } : {}),
    ...(allowed ? {} : { message: denial(base.findings) }),
  };
}
