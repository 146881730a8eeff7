import { canonicalJson } from '../../../schema/canonical-json.ts';
import { EICAR_SIGNATURE, type FileSignature } from '../../../schema/file-signatures.ts';
import { SignatureIndex } from '../scanner/signature-index.ts';

const EICAR = canonicalJson(EICAR_SIGNATURE);

/**
 * A distributed set's signatures as the scanner takes them (`SignatureIndex`, `ScanPool`): without the EICAR entry the
 * set carries for every other consumer, since the scanner adds EICAR itself; it is matched once.
 *
 * @example
 * ```ts
 * const pool = new ScanPool(scannerSignatures(set.document.signatures), options);
 * ```
 */
export function scannerSignatures(signatures: readonly FileSignature[]): FileSignature[] {
  return signatures.filter((s) => s.type !== 'body' || s.name !== EICAR_SIGNATURE.name || canonicalJson(s) !== EICAR);
}

/**
 * The scanner index of a distributed set.
 *
 * @example
 * ```ts
 * const index = indexOfSet(set.document.signatures);
 * ```
 */
export function indexOfSet(signatures: readonly FileSignature[]): SignatureIndex {
  return new SignatureIndex(scannerSignatures(signatures));
}
