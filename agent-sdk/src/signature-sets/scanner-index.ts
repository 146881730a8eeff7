import { canonicalJson } from '../../../schema/canonical-json.ts';
import { EICAR_SIGNATURE, type FileSignature } from '../../../schema/file-signatures.ts';
import { SignatureIndex } from '../scanner/signature-index.ts';

const EICAR = canonicalJson(EICAR_SIGNATURE);

/**
 * The scanner index of a distributed set. The set carries EICAR (so every consumer of the document detects it) and
 * `SignatureIndex` adds it on its own too; it is matched once.
 *
 * @example
 * ```ts
 * const index = indexOfSet(set.document.signatures);
 * ```
 */
export function indexOfSet(signatures: readonly FileSignature[]): SignatureIndex {
  return new SignatureIndex(signatures.filter((s) => s.type !== 'body' || s.name !== EICAR_SIGNATURE.name || canonicalJson(s) !== EICAR));
}
