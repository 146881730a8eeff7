import type { BundlePolicy } from '../../../../schema/bundle.ts';
import { decidingRule, signatureFactKey, type BundleValidator, type SignatureRule } from '../signature-rules.ts';
import type { Check, ContainerView, SignatureFact, Violation } from '../types.ts';

const WHY: Record<Exclude<SignatureFact, { status: 'verified' }>['reason'], string> = {
  unsigned: 'no signature found',
  otherKey: 'signed only by another key',
  otherIdentity: 'signed only by another identity',
  otherDigest: 'the signature is for another digest',
  registryUnreachable: 'registry unreachable',
  deadlineExceeded: 'deadline exceeded',
  registryError: 'registry error',
  imageNotFound: 'image not found in the registry',
  invalidValidator: 'the validator cannot be used',
};

/** Registry trouble, as opposed to an answer about the signatures: the validator's `onRegistryError` applies. */
const REGISTRY_TROUBLE = new Set(['registryUnreachable', 'deadlineExceeded', 'registryError']);

function violation(c: ContainerView, rule: SignatureRule, validator: BundleValidator | undefined, fact: SignatureFact | undefined): Violation | undefined {
  if (fact?.status === 'verified') return undefined;
  const who = `rule "${rule.registryUrlTemplate}", validator "${validator?.name ?? rule.validatorId}"`;
  const base = { check: 'imageContentProtection', container: c, severity: 'high' as const };
  if (!validator) return { ...base, message: `image "${c.image}": ${who} is not in the bundle; not verified` };
  if (!fact) return { ...base, message: `image "${c.image}": signatures were not checked (${who}); registry access is off` };
  const digest = fact.digest ? ` (${fact.digest})` : '';
  const message = `image "${c.image}"${digest}: ${WHY[fact.reason]} (${who}): ${fact.detail}`;
  const warn = validator.onRegistryError === 'warn' && REGISTRY_TROUBLE.has(fact.reason);
  return { ...base, message: warn ? `${message}; admitted (onRegistryError: warn)` : message, ...(fact.digest ? { digest: fact.digest } : {}), ...(warn ? { mode: 'audit' as const } : {}) };
}

/**
 * `imageContentProtection`: each container image whose deciding rule (the most specific matching template, see
 * `decidingRule`) says Check must have a signature for its exact digest that the rule's validator accepts. The facts
 * come from the signature I/O stage (`input.signatures`); the check itself does no I/O.
 */
export const imageContentProtectionCheck: Check = {
  section: 'imageContentProtection',
  enabled: (p: BundlePolicy) => p.imageContentProtection.enabled,
  run: (ctx, policy) => {
    const out: Violation[] = [];
    for (const c of ctx.containers) {
      if (!c.ref) continue;
      const rule = decidingRule(policy.imageContentProtection.rules, c.ref);
      if (!rule?.verify || !rule.validatorId) continue;
      const validator = ctx.bundle.signatureValidators.find((v) => v.id === rule.validatorId);
      const v = violation(c, rule, validator, validator ? ctx.signatures?.get(signatureFactKey(c.image, validator.id)) : undefined);
      if (v) out.push(v);
    }
    return out;
  },
};
