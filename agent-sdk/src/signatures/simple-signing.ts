import { parseStrictJson, StrictJsonError } from './strict-json.ts';

/** The `type` of a cosign container image signature payload. */
export const COSIGN_SIGNATURE_TYPE = 'cosign container image signature';

export interface SimpleSigningPayload {
  /** `critical.image.docker-manifest-digest`: the digest the signature is for. */
  digest: string;
  /** `critical.identity.docker-reference`, informational (cosign signs the repository, not a tag). */
  reference: string;
}

const obj = (v: unknown): Record<string, unknown> | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);

/**
 * Reads a simple-signing payload (containers/image "atomic container signature", cosign's `type`): keys
 * case-insensitive, duplicates refused, the digest required. Throws an Error saying what is wrong.
 *
 * @example
 * ```ts
 * parseSimpleSigning(payload).digest === admittedDigest; // else the signature is for another image
 * ```
 */
export function parseSimpleSigning(bytes: Uint8Array): SimpleSigningPayload {
  let doc: unknown;
  try {
    doc = parseStrictJson(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new Error(`payload: ${err instanceof StrictJsonError ? err.message : 'not JSON'}`);
  }
  const critical = obj(obj(doc)?.critical);
  if (!critical) throw new Error('payload: no "critical" object');
  if (critical.type !== COSIGN_SIGNATURE_TYPE) throw new Error(`payload: type is not "${COSIGN_SIGNATURE_TYPE}"`);
  const digest = obj(critical.image)?.['docker-manifest-digest'];
  if (typeof digest !== 'string' || digest === '') throw new Error('payload: no critical.image.docker-manifest-digest');
  const reference = obj(critical.identity)?.['docker-reference'];
  return { digest, reference: typeof reference === 'string' ? reference : '' };
}
