import type { OciClient } from '../oci/client.ts';

const MAX_REFERRERS = 32;
export const BUNDLE_ARTIFACT_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const isBundleType = (t: string) => t.startsWith('application/vnd.dev.sigstore.bundle');

/**
 * The Sigstore bundles attached to a digest as OCI 1.1 referrers (cosign v3): each referrer manifest must name the
 * digest as its `subject`; its first layer is the bundle (JSON, digest-checked). Referrers of another subject (a
 * registry or tag-schema index that lies) are skipped.
 */
export async function referrerBundles(client: OciClient, registry: string, repository: string, digest: string, signal: AbortSignal): Promise<unknown[]> {
  const descriptors = (await client.referrers(registry, repository, digest, BUNDLE_ARTIFACT_TYPE, signal, isBundleType)).slice(0, MAX_REFERRERS);
  const out: unknown[] = [];
  for (const d of descriptors) {
    const fetched = await client.manifest(registry, repository, d.digest, signal);
    const m = fetched?.manifest;
    if (!m || m.subject?.digest !== digest) continue;
    const layer = Array.isArray(m.layers) ? m.layers.find((l) => typeof l?.mediaType === 'string' && isBundleType(l.mediaType)) : undefined;
    if (!layer) continue;
    const bytes = await client.blob(registry, repository, layer.digest, signal);
    if (!bytes) continue;
    try {
      out.push(JSON.parse(Buffer.from(bytes).toString('utf8')));
    } catch {
      // not JSON: not a bundle; other referrers may still be
    }
  }
  return out;
}
