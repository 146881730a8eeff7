import type { BundleContentV1, BundleImage } from '../../../schema/bundle.ts';
import { tryParseImageReference, type ImageReference } from '../../../schema/image-reference.ts';

const indexes = new WeakMap<BundleImage[], Map<string, BundleImage[]>>();

/** The inventory by normalized repository name, built once per bundle. */
function index(images: BundleImage[]): Map<string, BundleImage[]> {
  let byName = indexes.get(images);
  if (!byName) {
    byName = new Map();
    for (const image of images) {
      const name = tryParseImageReference(image.reference)?.name ?? image.reference;
      byName.set(name, [...(byName.get(name) ?? []), image]);
    }
    indexes.set(images, byName);
  }
  return byName;
}

/**
 * The inventory entries an image reference denotes: same normalized repository and, when the reference pins a
 * digest, that digest (the tag then does not matter: the digest is what runs); otherwise one of the entry's tags
 * (the implied `latest` included). Empty: the image is not registered.
 */
export function registeredImages(bundle: BundleContentV1, ref: ImageReference): BundleImage[] {
  const entries = index(bundle.images).get(ref.name) ?? [];
  return entries.filter((e) => (ref.digest !== undefined ? e.digest === ref.digest : ref.tag !== undefined && e.tags.includes(ref.tag)));
}
