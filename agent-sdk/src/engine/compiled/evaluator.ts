import type { BundleContentV1 } from '../../../../schema/bundle.ts';
import { workloadShapeProblems } from '../spec-shape.ts';
import type { AdmissionInput, CheckContext, ContainerView, Decision, EvaluateOptions, Finding, PolicyResult, Violation } from '../types.ts';
import { DEFAULT_TRUSTED_CONTROLLERS, extractWorkload } from '../workload.ts';
import { CheckTable } from './checks.ts';
import { ImageCache } from './images.ts';
import { addProfiles, compilePolicy, covers, exclusions, mappingTargets, Slots, type CompiledPolicy } from './policy.ts';
import { surelyWellFormed } from './shape.ts';

const denial = (findings: Finding[]) => {
  let out = '';
  for (const f of findings) {
    if (f.mode !== 'enforce') continue;
    out += `${out ? '; ' : ''}policy "${f.policy.name}": ${f.check}${f.container ? ` (${f.container})` : ''}: ${f.message}`;
  }
  return out;
};

/**
 * `decision.message` of a denial, built from the findings when read (the webhook words its own answer and never reads
 * it). One getter and setter for every decision: a fresh closure per object would give each decision its own hidden
 * class, which V8 keeps (the old generation grew by megabytes per second under load).
 */
const MESSAGE: PropertyDescriptor = {
  enumerable: true,
  configurable: true,
  get(this: Decision) {
    return denial(this.findings);
  },
  set(this: Decision, value: string | undefined) {
    Object.defineProperty(this, 'message', { value, enumerable: true, configurable: true, writable: true });
  },
};

/**
 * A bundle compiled once for many decisions: each policy's fixed settings prepared (scopes, exclusions with parsed
 * expiry, enabled checks, sections not enforced, runtime-profile mappings), and the checks of all policies
 * deduplicated, so a pod is checked once per distinct check configuration and each result attributed to every policy
 * that has it. Decides exactly as `evaluate(bundle, input, options)`, the reference (a property test compares them).
 *
 * @example
 * ```ts
 * const compiled = compiledBundle(bundle.content); // cached per bundle content
 * const decision = compiled.evaluate({ object: pod, namespace: 'shop' }, { now: new Date(), bundleRevision: 42 });
 * ```
 */
export class CompiledBundle {
  readonly #policies: CompiledPolicy[];
  readonly #checks: number;
  readonly #rulesGroups: number;
  readonly #mappingSlots: number;
  readonly #images = new ImageCache();

  constructor(readonly bundle: BundleContentV1) {
    const table = new CheckTable();
    const rulesGroups = new Slots();
    const mappingSlots = new Slots();
    this.#policies = bundle.policies.map((p) => compilePolicy(p, table, rulesGroups, mappingSlots));
    this.#checks = table.size;
    this.#rulesGroups = rulesGroups.size;
    this.#mappingSlots = mappingSlots.size;
  }

  /**
   * Which policies' scopes cover a cluster and namespace (1) or not (0), per pair: the policies a namespace's pods
   * are checked against, worked out once per namespace rather than per pod. Bounded like the image cache.
   */
  readonly #coverage = new Map<string, Uint8Array>();
  #scopes(cluster: string, namespace: string): Uint8Array {
    const key = `${cluster}\u0000${namespace}`;
    let covered = this.#coverage.get(key);
    if (covered === undefined) {
      covered = Uint8Array.from(this.#policies, (p) => (covers(p, cluster, namespace) ? 1 : 0));
      if (this.#coverage.size >= 4096) this.#coverage.clear();
      this.#coverage.set(key, covered);
    }
    return covered;
  }

  /** Distinct checks across the bundle's policies (each runs at most once per pod whose containers no policy excludes). */
  get distinctChecks(): number {
    return this.#checks;
  }

  evaluate(input: AdmissionInput, options: EvaluateOptions): Decision {
    const findings: Finding[] = [];
    const policies: PolicyResult[] = [];
    const workload = extractWorkload(input.object);
    if (!workload) return { bundleRevision: options.bundleRevision, findings, runtimeProfiles: {}, policies, allowed: true };
    const namespace = input.namespace ?? workload.namespace ?? 'default';
    const ref = { kind: workload.kind, name: workload.name, namespace };
    if (!surelyWellFormed(input.object)) {
      const malformed = workloadShapeProblems(input.object);
      if (malformed.length > 0)
        return { bundleRevision: options.bundleRevision, findings, runtimeProfiles: {}, policies, allowed: false, workload: ref, malformed, message: `${workload.kind} "${workload.name}" is malformed: ${malformed.map((p) => `${p.pointer}: ${p.message}`).join('; ')}` };
    }
    const bundle = this.bundle;
    const cluster = input.cluster ?? bundle.cluster.name;
    const trusted = input.requester !== undefined && (options.trustedControllers ?? DEFAULT_TRUSTED_CONTROLLERS).includes(input.requester);
    const owners = trusted ? (input.owners ? [...workload.owners, ...input.owners] : workload.owners) : (input.owners ?? []);
    const all: ContainerView[] = this.#images.views(workload.spec);
    const at = options.now.getTime();
    const shared: CheckContext = { bundle, workload, spec: workload.spec, containers: all, allContainers: all, now: options.now };
    if (input.signatures) shared.signatures = input.signatures;
    const memo: Array<Violation[] | undefined> = new Array(this.#checks);
    const profiles = new Map<string, string[]>();
    // Shared per decision when a policy evaluates the whole pod: its rules list and its mappings' targets.
    const rulesMemo: Array<PolicyResult['rules'] | undefined> = new Array(this.#rulesGroups);
    const targetsMemo: Array<ContainerView[][] | undefined> = new Array(this.#mappingSlots);
    let notEnforced: NonNullable<Decision['notEnforced']> | undefined;
    let allowed = true;
    const inScope = this.#scopes(cluster, namespace);
    for (let i = 0; i < this.#policies.length; i++) {
      const p = this.#policies[i]!;
      const policy = p.policy;
      // Each result made in its final shape (as `evaluate` words it: same keys, same order).
      if (!policy.enabled) {
        policies.push({ policy: p.ref, mode: policy.mode, status: 'skipped', rules: [], reason: 'disabled' });
        continue;
      }
      if (inScope[i] === 0) {
        policies.push({ policy: p.ref, mode: policy.mode, status: 'skipped', rules: [], reason: 'outOfScope' });
        continue;
      }
      const { skip, excluded } = exclusions(p, workload, owners, namespace, all, at);
      if (skip) {
        policies.push({ policy: p.ref, mode: policy.mode, status: 'skipped', rules: [], reason: 'excluded', exclusion: skip });
        continue;
      }
      // The whole pod unless an Image exclusion took containers out: then this policy's own context, not shared.
      const ctx = excluded.size === 0 ? shared : { ...shared, containers: all.filter((c) => !excluded.has(c)) };
      const result: PolicyResult =
        excluded.size === 0
          ? { policy: p.ref, mode: policy.mode, status: 'applied', rules: [] }
          : { policy: p.ref, mode: policy.mode, status: 'applied', rules: [], excludedContainers: [...excluded].map((c) => c.name) };
      policies.push(result);
      const whole = ctx === shared;
      const known = whole ? rulesMemo[p.rulesGroup] : undefined;
      const rules = known ?? [];
      for (const check of p.checks) {
        let violations = whole ? memo[check.slot] : undefined;
        if (violations === undefined) {
          violations = check.run(ctx);
          if (whole) memo[check.slot] = violations;
        }
        if (known === undefined) rules.push({ check: check.section, status: violations.length ? 'fail' : 'pass' });
        for (const v of violations) {
          const mode = v.mode ?? policy.mode;
          if (mode === 'enforce') allowed = false;
          const c = v.container;
          findings.push(
            v.digest
              ? { policy: p.ref, mode, check: v.check, container: c?.name, image: c?.image, digest: v.digest, message: v.message, severity: v.severity }
              : { policy: p.ref, mode, check: v.check, container: c?.name, image: c?.image, message: v.message, severity: v.severity },
          );
        }
      }
      if (known === undefined) {
        for (const section of p.notEnforced) rules.push({ check: section, status: 'skip' });
        if (whole) rulesMemo[p.rulesGroup] = rules;
      }
      result.rules = rules;
      if (p.notEnforced.length > 0) (notEnforced ??= []).push({ policy: p.ref, mode: policy.mode, sections: [...p.notEnforced] });
      if (p.mappings.length > 0) {
        let targets = whole ? targetsMemo[p.mappingSlot] : undefined;
        if (targets === undefined) {
          targets = mappingTargets(p, workload, ctx.containers);
          if (whole) targetsMemo[p.mappingSlot] = targets;
        }
        addProfiles(profiles, p, targets);
      }
    }
    const decision: Decision = { bundleRevision: options.bundleRevision, findings, runtimeProfiles: profiles.size === 0 ? {} : Object.fromEntries(profiles), policies, allowed, workload: ref };
    if (notEnforced) decision.notEnforced = notEnforced;
    if (!allowed) Object.defineProperty(decision, 'message', MESSAGE);
    return decision;
  }
}

const compiled = new WeakMap<BundleContentV1, CompiledBundle>();

/**
 * The compiled form of a bundle's content, made on first use and kept as long as the content object lives (a bundle
 * revision is one content object: the webhook and the CLI hold it until the next revision replaces it).
 *
 * @example
 * ```ts
 * const decision = compiledBundle(active.content).evaluate(input, { now, bundleRevision: active.revision });
 * ```
 */
export function compiledBundle(content: BundleContentV1): CompiledBundle {
  let c = compiled.get(content);
  if (!c) compiled.set(content, (c = new CompiledBundle(content)));
  return c;
}
