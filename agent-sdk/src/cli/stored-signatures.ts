import { join, resolve } from 'node:path';
import type { FileSignature } from '../../../schema/file-signatures.ts';
import { BundleVerificationError } from '../bundle/errors.ts';
import { loadAgentFiles } from '../node/agent-files.ts';
import { AgentFileError, readAgentFile } from '../node/agent-file.ts';
import { SIGNATURE_FILES } from '../signature-sets/store.ts';
import { scannerSignatures } from '../signature-sets/scanner-index.ts';
import { verifySignatureSet } from '../signature-sets/verify.ts';
import { UsageError } from './args.ts';

/**
 * `scan --signatures-from DIR --config FILE`: the signature set a node agent stored in DIR, verified against the
 * agent's trust anchor, issuer and tenant (an expired signature is fine: it is the last good set). Without the
 * configuration nothing pins whose set it is, so it is required.
 */
export async function storedSignatures(dir: string, configFile: string | undefined): Promise<FileSignature[]> {
  if (configFile === undefined) throw new UsageError('--signatures-from needs --config FILE: the stored set is verified against the agent\'s trust anchor, issuer and tenant');
  const { trust, config } = await loadAgentFiles(resolve(configFile));
  const file = join(resolve(dir), SIGNATURE_FILES.jws);
  const jws = await readAgentFile(file);
  try {
    const set = await verifySignatureSet(jws, { trust, issuer: config.issuer, tenantId: config.tenantId, now: new Date(), allowExpired: true });
    return scannerSignatures(set.document.signatures);
  } catch (err) {
    if (err instanceof BundleVerificationError) throw new AgentFileError(file, `signature set refused (${err.code}): ${err.message}`);
    throw err;
  }
}
