import type { BundlePolicy } from '../../../schema/bundle.ts';
import { ENFORCEABLE_SECTIONS, type EnforceableSection } from '../../../schema/enforcement.ts';
import { CHECKS } from './checks/index.ts';

/**
 * The policy sections this engine enforces at admission: derived from `CHECKS` (each check names its section), so a
 * new check file makes its section enforced, and a section without one (`containerRuntimeProfiles`: a mapping for
 * the node agent; `fileThreatProtection`; `imageContentProtection` until its check exists) is reported as not.
 */
export const ADMISSION_SECTIONS: readonly EnforceableSection[] = ENFORCEABLE_SECTIONS.filter((s) => CHECKS.some((c) => c.section === s));

/**
 * The sections a policy enables that `enforced` does not cover: never to pass silently.
 *
 * @example
 * ```ts
 * notEnforcedSections(policy); // ['containerRuntimeProfiles'] for a policy mapping runtime profiles
 * ```
 */
export function notEnforcedSections(policy: BundlePolicy, enforced: readonly EnforceableSection[] = ADMISSION_SECTIONS): EnforceableSection[] {
  return ENFORCEABLE_SECTIONS.filter((s) => policy[s].enabled && !enforced.includes(s));
}
