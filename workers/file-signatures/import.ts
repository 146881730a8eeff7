import { importClamAv } from '../../schema/clamav-import.ts';
import { canonicalJson, sha256Digest } from '../../schema/canonical-json.ts';
import { MAX_SIGNATURES_PER_SET, type FileSignatureSetSpec } from '../../schema/file-signature-sets.ts';
import type { FileSignature } from '../../schema/file-signatures.ts';
import { PalisadeError } from '../http/errors.ts';

/** Line errors listed in one answer; the count of all of them is in `unsupportedLines`. */
export const MAX_LINE_ERRORS = 1000;

export interface ImportedSet {
  signatures: FileSignature[];
  /** `sha256:<hex>` of the canonical JSON of `signatures`. */
  digest: string;
}

/**
 * The signatures a set holds, imported from its source. A ClamAV line that cannot be enforced as written refuses the
 * whole set (422, one error per line with its number): storing the rest would drop detections without anyone seeing.
 */
export async function importSet(spec: FileSignatureSetSpec): Promise<ImportedSet> {
  let signatures: FileSignature[];
  if (spec.format === 'palisade') signatures = spec.signatures;
  else {
    const imported = importClamAv(spec.format, spec.content);
    if (imported.unsupported.length > 0) {
      const n = imported.unsupported.length;
      throw new PalisadeError('validation_failed', `${n} line${n === 1 ? '' : 's'} of the .${spec.format} content cannot be imported; nothing was stored`, {
        errors: imported.unsupported.slice(0, MAX_LINE_ERRORS).map((u) => ({ pointer: '/content', line: u.line, detail: u.reason })),
        extensions: { unsupportedLines: n },
      });
    }
    signatures = imported.signatures;
    if (signatures.length > MAX_SIGNATURES_PER_SET) {
      throw new PalisadeError('payload_too_large', `the set holds ${signatures.length} signatures; one set may hold ${MAX_SIGNATURES_PER_SET} (split it)`);
    }
  }
  return { signatures, digest: await sha256Digest(canonicalJson(signatures)) };
}
