import type { OciClient } from '../oci/client.ts';

/** Cosign's annotation names; both spellings are in use (`dev.cosignproject.cosign/` is the original). */
const PREFIXES = ['dev.cosignproject.cosign/', 'dev.sigstore.cosign/'];
const MAX_LAYERS = 64;

/** One signature of the legacy format: a layer of the `sha256-<hex>.sig` manifest. */
export interface LegacySignature {
  payload: Uint8Array;
  /** The raw signature bytes (the annotation is base64). */
  signature: Uint8Array;
  certificate?: string;
  chain?: string;
  /** The Rekor bundle annotation (JSON text), for keyless signatures. */
  rekorBundle?: string;
  /** The RFC 3161 timestamp annotation (JSON text). */
  rfc3161?: string;
}

function annotation(annotations: Record<string, string> | undefined, name: string): string | undefined {
  if (!annotations) return undefined;
  for (const prefix of PREFIXES) {
    const v = annotations[prefix + name];
    if (typeof v === 'string' && v !== '') return v;
  }
  return undefined;
}

/**
 * The legacy cosign signatures of a digest: layers of the manifest tagged `sha256-<hex>.sig` in the image's repository
 * that carry a signature annotation, each with its payload blob (digest-checked). `[]` when the tag does not exist.
 */
export async function legacySignatures(client: OciClient, registry: string, repository: string, digest: string, signal: AbortSignal): Promise<LegacySignature[]> {
  const tag = `${digest.replace(':', '-')}.sig`;
  const fetched = await client.manifest(registry, repository, tag, signal);
  const layers = Array.isArray(fetched?.manifest.layers) ? fetched.manifest.layers.slice(0, MAX_LAYERS) : [];
  const out: LegacySignature[] = [];
  for (const layer of layers) {
    const sig = annotation(layer?.annotations, 'signature');
    if (!sig || typeof layer.digest !== 'string') continue;
    const payload = await client.blob(registry, repository, layer.digest, signal);
    if (!payload) continue;
    const optional = (name: string, key: keyof LegacySignature) => {
      const v = annotation(layer.annotations, name);
      return v !== undefined ? { [key]: v } : {};
    };
    out.push({
      payload,
      signature: Buffer.from(sig, 'base64'),
      ...optional('certificate', 'certificate'),
      ...optional('chain', 'chain'),
      ...optional('bundle', 'rekorBundle'),
      ...optional('rfc3161timestamp', 'rfc3161'),
    });
  }
  return out;
}
