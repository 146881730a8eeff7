import type { JWKS } from '../bundle/jws.ts';
import type { TrustStore } from '../bundle/trust.ts';
import { writeFileAtomic } from './atomic-write.ts';

/**
 * Keeps a refreshed trust anchor in the agent's trust file (`jwks.json`), replaced atomically: after a crash the
 * file holds the old anchor or the new one, whole.
 *
 * @example
 * ```ts
 * const { config, credential, trust, trustFile } = await loadAgentFiles('/etc/palisade/config.json');
 * const client = new BundleClient({ ...config, credential, trust, trustStore: new FileTrustStore(trustFile) });
 * ```
 */
export class FileTrustStore implements TrustStore {
  constructor(readonly file: string) {}

  save(trust: JWKS): Promise<void> {
    return writeFileAtomic(this.file, JSON.stringify(trust, null, 2) + '\n', 0o644);
  }
}
