import { registeredImages } from '../inventory.ts';
import type { Check } from '../types.ts';

/** `blockUnregisteredImages`: the image is in the bundle's inventory by repository and digest, or repository and tag. */
export const unregisteredImagesCheck: Check = {
  section: 'blockUnregisteredImages',
  enabled: (p) => p.blockUnregisteredImages.enabled,
  run: (ctx) =>
    ctx.containers
      .filter((c) => c.ref && registeredImages(ctx.bundle, c.ref).length === 0)
      .map((c) => ({ check: 'blockUnregisteredImages', container: c, message: `image "${c.image}" is not registered (neither its digest nor its tag is in the image inventory)`, severity: 'medium' as const })),
};
