import { clamAvFormatOf, importClamAv, type UnsupportedLine } from '../../../schema/clamav-import.ts';
import { SignatureSetDocument, type FileSignature } from '../../../schema/file-signatures.ts';
import { AgentFileError, readAgentFile } from '../node/agent-file.ts';

export interface LoadedSignatures {
  signatures: FileSignature[];
  /** Lines of ClamAV files that were not imported, with the file they came from. */
  unsupported: Array<UnsupportedLine & { file: string }>;
}

/**
 * Reads signature files: Palisade's JSON set (`*.json`) or ClamAV `.hdb`, `.hsb` and `.ndb`. A file that is missing or
 * not valid is an `AgentFileError` naming it and the problem; unsupported ClamAV lines are returned, not dropped.
 */
export async function loadSignatureFiles(files: readonly string[]): Promise<LoadedSignatures> {
  const result: LoadedSignatures = { signatures: [], unsupported: [] };
  for (const file of files) {
    const text = await readAgentFile(file);
    const clamav = clamAvFormatOf(file);
    if (clamav) {
      const imported = importClamAv(clamav, text);
      result.signatures.push(...imported.signatures);
      result.unsupported.push(...imported.unsupported.map((u) => ({ ...u, file })));
      continue;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new AgentFileError(file, `not JSON (${(err as Error).message}); signature files are *.json, *.hdb, *.hsb or *.ndb`);
    }
    const parsed = SignatureSetDocument.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new AgentFileError(file, `/${issue.path.join('/')}: ${issue.message}`);
    }
    result.signatures.push(...parsed.data.signatures);
  }
  return result;
}
