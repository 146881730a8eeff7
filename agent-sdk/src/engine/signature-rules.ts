import type { BundleContentV1, BundlePolicy } from '../../../schema/bundle.ts';
import { compileImageTemplate, matchesImageTemplate, type ImageTemplate } from '../../../schema/image-template.ts';
import type { ImageReference } from '../../../schema/image-reference.ts';
import { policyCovers } from './applicability.ts';
import { containerViews } from './containers.ts';
import type { AdmissionInput } from './types.ts';
import { extractWorkload } from './workload.ts';

export type SignatureRule = BundlePolicy['imageContentProtection']['rules'][number];
export type BundleValidator = BundleContentV1['signatureValidators'][number];

/** The key of one image's fact for one validator, in `AdmissionInput.signatures`. */
export const signatureFactKey = (image: string, validatorId: string) => `${image}\u0000${validatorId}`;

const hasWildcard = (part: string) => part.includes('*');

/**
 * How specific a template is, compared element by element (larger wins):
 * 1. a digest part without wildcards (a template pinned to one image),
 * 2. the number of name segments (registry host included) that hold no wildcard,
 * 3. no `**` anywhere in the name,
 * 4. the tag part: a literal tag, then a tag mask, then none,
 * 5. the number of literal (non-wildcard) characters in the whole template.
 * Equal scores keep the rule that comes first in the policy.
 */
export function templateSpecificity(t: ImageTemplate): number[] {
  const suffix = (t.tag !== undefined ? `:${t.tag}` : '') + (t.digest !== undefined ? `@${t.digest}` : '');
  const nameOnly = t.normalized.slice(0, t.normalized.length - suffix.length);
  const segments = nameOnly.split('/');
  return [
    t.digest !== undefined && !hasWildcard(t.digest) ? 1 : 0,
    segments.filter((s) => !hasWildcard(s)).length,
    nameOnly.includes('**') ? 0 : 1,
    t.tag === undefined ? 0 : hasWildcard(t.tag) ? 1 : 2,
    t.normalized.replace(/\*/g, '').length,
  ];
}

const compiled = new Map<string, { t: ImageTemplate; score: number[] } | null>();
function scored(template: string) {
  let entry = compiled.get(template);
  if (entry === undefined) {
    const t = compileImageTemplate(template);
    entry = t ? { t, score: templateSpecificity(t) } : null;
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(template, entry);
  }
  return entry;
}

const better = (a: number[], b: number[]) => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return false;
};

/**
 * The rule that decides for an image: among the rules whose registry URL template matches, the most specific (see
 * {@link templateSpecificity}); `undefined` when none matches (the image is not checked).
 *
 * @example
 * ```ts
 * // rules: `ghcr.io/**` Check with validator A, `ghcr.io/acme/tools/*` Don't check
 * decidingRule(rules, parseImageReference('ghcr.io/acme/tools/lint:1'))?.verify; // false: the longer template decides
 * ```
 */
export function decidingRule(rules: readonly SignatureRule[], ref: ImageReference): SignatureRule | undefined {
  // Template matching costs microseconds per rule; a bundle's rule list is one object for its whole life, so the
  // answer per image is remembered with it (bounded), and cached decisions stay cheap.
  let memo = decided.get(rules);
  if (!memo) decided.set(rules, (memo = new Map()));
  const hit = memo.get(ref.canonical);
  if (hit !== undefined) return hit ?? undefined;
  const rule = decide(rules, ref);
  if (memo.size >= 10_000) memo.clear();
  memo.set(ref.canonical, rule ?? null);
  return rule;
}

const decided = new WeakMap<readonly SignatureRule[], Map<string, SignatureRule | null>>();

function decide(rules: readonly SignatureRule[], ref: ImageReference): SignatureRule | undefined {
  let best: { rule: SignatureRule; score: number[] } | undefined;
  for (const rule of rules) {
    const entry = scored(rule.registryUrlTemplate);
    if (!entry || !matchesImageTemplate(entry.t, ref)) continue;
    if (!best || better(entry.score, best.score)) best = { rule, score: entry.score };
  }
  return best?.rule;
}

/** One verification the I/O stage must do before `evaluate`. */
export interface SignatureNeed {
  image: string;
  validator: BundleValidator;
}

/**
 * The (image, validator) pairs an admission request may need facts for: every container image that the deciding rule
 * of an enabled policy covering the cluster and namespace marks `Check`. Exclusions are not applied (a superset only
 * costs a verification). Pure.
 */
export function signatureNeeds(bundle: BundleContentV1, input: AdmissionInput): SignatureNeed[] {
  const workload = extractWorkload(input.object);
  if (!workload) return [];
  const namespace = input.namespace ?? workload.namespace ?? 'default';
  const cluster = input.cluster ?? bundle.cluster.name;
  const validators = new Map(bundle.signatureValidators.map((v) => [v.id, v]));
  const needs = new Map<string, SignatureNeed>();
  const containers = containerViews(workload.spec);
  for (const policy of bundle.policies) {
    if (!policy.enabled || !policy.imageContentProtection.enabled || !policyCovers(policy, cluster, namespace)) continue;
    for (const c of containers) {
      if (!c.ref) continue;
      const rule = decidingRule(policy.imageContentProtection.rules, c.ref);
      const validator = rule?.verify && rule.validatorId ? validators.get(rule.validatorId) : undefined;
      if (validator) needs.set(signatureFactKey(c.image, validator.id), { image: c.image, validator });
    }
  }
  return [...needs.values()];
}
