import type { BundleImage } from '../../../../schema/bundle.ts';
import { registeredImages } from '../inventory.ts';
import type { Check, Violation } from '../types.ts';

/** Whether an inventory entry blocks: `nonCompliant`, or `compliant` past its `compliantUntil` (the verdict lapsed). */
function blocks(e: BundleImage, now: Date | undefined): boolean {
  if (e.compliance === 'nonCompliant') return true;
  return e.compliance === 'compliant' && e.compliantUntil !== undefined && now !== undefined && Date.parse(e.compliantUntil) <= now.getTime();
}

const why = (e: BundleImage, now: Date | undefined) =>
  e.compliance === 'compliant' ? `its compliance lapsed at ${e.compliantUntil} (scan too old or an allowed CVE expired)` : (e.why ?? 'assurance found it non-compliant');

/**
 * `blockNonCompliantImages`, as the seed words it: the check applies to scanned images registered in the inventory.
 * Blocked: an entry that is `nonCompliant`, or `compliant` with a `compliantUntil` that has passed (the control plane's
 * hourly recompute may not have reached the bundle yet). Not judged here: `notScanned` images (registered, never
 * scanned: not reported as non-compliant) and unregistered ones (`blockUnregisteredImages`' business). When a tag
 * matches several registered digests, any blocking one blocks (the tag may resolve to it).
 */
export const nonCompliantImagesCheck: Check = {
  section: 'blockNonCompliantImages',
  enabled: (p) => p.blockNonCompliantImages.enabled,
  run(ctx) {
    const out: Violation[] = [];
    for (const c of ctx.containers) {
      if (!c.ref) continue;
      const bad = registeredImages(ctx.bundle, c.ref).filter((e) => blocks(e, ctx.now));
      if (bad.length > 0) out.push({ check: 'blockNonCompliantImages', container: c, message: `image "${c.image}" (${bad[0]!.digest}) is not compliant: ${why(bad[0]!, ctx.now)}`, severity: 'high' });
    }
    return out;
  },
};
