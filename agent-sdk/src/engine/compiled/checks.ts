import type { BundlePolicy } from '../../../../schema/bundle.ts';
import { CHECKS } from '../checks/index.ts';
import type { Check, CheckContext, Violation } from '../types.ts';
import { fastCheck } from './fast-checks.ts';

/**
 * The fields of a policy each check reads (its own section), as a key: policies with equal keys get equal
 * violations on the same containers, so a compiled bundle runs each distinct check once per pod and attributes the
 * result to every policy that has it. A check without a key here (a new one) is never shared.
 */
const KEYS: Record<string, (p: BundlePolicy) => unknown> = {
  imageReference: () => null,
  registriesAllowed: (p) => p.registriesAllowed.registries,
  blockUnregisteredImages: () => null,
  blockNonCompliantImages: () => null,
  limitContainerPrivileges: (p) => [p.limitContainerPrivileges.preset ?? null, p.limitContainerPrivileges.settings],
  capabilitiesBlock: (p) => p.capabilitiesBlock.capabilities,
  volumesBlocked: (p) => p.volumesBlocked.paths,
  bestPracticeCheck: (p) => p.bestPracticeCheck.checks,
  imageContentProtection: (p) => p.imageContentProtection.rules,
};

/** One distinct check of a bundle: the section, and its violations for a context (a policy's containers). */
export interface SharedCheck {
  section: string;
  /** Index into the per-evaluation memo. */
  slot: number;
  run(ctx: CheckContext): Violation[];
}

/** Runs a check as `evaluate` does: a check that throws becomes one `<section>.error` violation (fail closed). */
export function guarded(check: Check, policy: BundlePolicy, run: (ctx: CheckContext) => Violation[] = (ctx) => check.run(ctx, policy)): (ctx: CheckContext) => Violation[] {
  return (ctx) => {
    try {
      return run(ctx);
    } catch (err) {
      return [{ check: `${check.section}.error`, message: `check failed: ${err instanceof Error ? err.message : String(err)}`, severity: 'high' }];
    }
  };
}

/** Deduplicates the checks of a bundle's policies by section and key. */
export class CheckTable {
  readonly #byKey = new Map<string, SharedCheck>();
  #unique = 0;

  get size(): number {
    return this.#byKey.size;
  }

  /** The enabled checks of a policy, in `CHECKS` order, each shared with the policies configured the same. */
  forPolicy(policy: BundlePolicy): SharedCheck[] {
    const out: SharedCheck[] = [];
    for (const check of CHECKS) {
      if (!check.enabled(policy)) continue;
      const keyOf = KEYS[check.section];
      const key = `${check.section}\u0000${keyOf ? JSON.stringify(keyOf(policy)) : `policy ${policy.id} ${this.#unique++}`}`;
      let shared = this.#byKey.get(key);
      if (!shared) {
        shared = { section: check.section, slot: this.#byKey.size, run: guarded(check, policy, fastCheck(check, policy)) };
        this.#byKey.set(key, shared);
      }
      out.push(shared);
    }
    return out;
  }
}
