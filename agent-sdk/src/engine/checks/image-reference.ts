import type { Check } from '../types.ts';

/**
 * `imageReference`: a container whose image is not a valid reference cannot be matched against registries, the
 * inventory or tag rules, so under a policy that checks images it is a finding (fail closed in Enforce mode) rather
 * than a crash. Policies that check no image property ignore it.
 */
export const imageReferenceCheck: Check = {
  section: 'imageReference',
  enabled: (p) =>
    p.registriesAllowed.enabled ||
    p.blockUnregisteredImages.enabled ||
    p.blockNonCompliantImages.enabled ||
    (p.bestPracticeCheck.enabled && p.bestPracticeCheck.checks.some((c) => c === 'imageTagNotLatest' || c === 'imageDigestPinned')),
  run: (ctx) =>
    ctx.containers
      .filter((c) => c.imageError !== undefined)
      .map((c) => ({ check: 'imageReference', container: c, message: `container "${c.name}" cannot be checked: ${c.imageError}`, severity: 'high' as const })),
};
