import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { RegistryAccessConfig } from '../config.ts';
import { AgentFileError } from '../node/agent-file.ts';
import { parseDockerConfig } from '../oci/auth.ts';
import { OciClient } from '../oci/client.ts';
import { SignatureVerifier } from './verifier.ts';

/**
 * A {@link SignatureVerifier} from the agent's `registryAccess` settings; `dockerConfigFile` is read relative to
 * `baseDir`. A missing or malformed credentials file is an {@link AgentFileError} naming it (never its content).
 *
 * @example
 * ```ts
 * const verifier = await verifierFromConfig(config.registryAccess, dirname(configFile));
 * ```
 */
export async function verifierFromConfig(settings: RegistryAccessConfig | undefined, baseDir: string): Promise<SignatureVerifier> {
  const s = settings ?? RegistryAccessConfig.parse({});
  let credentials;
  if (s.dockerConfigFile !== undefined) {
    const file = resolve(baseDir, s.dockerConfigFile);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new AgentFileError(file, `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    try {
      credentials = parseDockerConfig(text);
    } catch (err) {
      throw new AgentFileError(file, (err as Error).message);
    }
  }
  const client = new OciClient({ ...(credentials ? { credentials } : {}), plainHttp: s.plainHttp, maxManifestBytes: s.maxManifestBytes, maxBlobBytes: s.maxBlobBytes });
  return new SignatureVerifier({
    client,
    positiveTtlMs: s.positiveTtlSeconds * 1000,
    negativeTtlMs: s.negativeTtlSeconds * 1000,
    tagTtlMs: s.tagTtlSeconds * 1000,
    maxEntries: s.maxCacheEntries,
  });
}
