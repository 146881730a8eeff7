import { registeredImages } from '../inventory.ts';
import type { Check, Violation } from '../types.ts';

/**
 * `blockNonCompliantImages`: a registered image must be `compliant`. When a tag matches several registered digests,
 * every one must be compliant (the tag may resolve to any of them). An unregistered image is not judged here; that
 * is `blockUnregisteredImages`' business.
 */
export const nonCompliantImagesCheck: Check = {
  section: 'blockNonCompliantImages',
  enabled: (p) => p.blockNonCompliantImages.enabled,
  run(ctx) {
    const out: Violation[] = [];
    for (const c of ctx.containers) {
      if (!c.ref) continue;
      const bad = registeredImages(ctx.bundle, c.ref).filter((e) => e.compliance !== 'compliant');
      if (bad.length > 0) out.push({ check: 'blockNonCompliantImages', container: c, message: `image "${c.image}" is ${bad[0]!.compliance} (${bad[0]!.digest})`, severity: 'high' });
    }
    return out;
  },
};
