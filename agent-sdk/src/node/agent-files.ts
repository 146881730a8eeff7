import { dirname, join, resolve } from 'node:path';
import type { JWKS } from '../bundle/jws.ts';
import { AgentConfig } from '../config.ts';
import { formatIssues } from '../format-issues.ts';
import { parseTrustAnchor } from '../trust-anchor.ts';
import type { Enrollment } from '../enroll.ts';
import { AgentFileError, readAgentFile, readJsonFile } from './agent-file.ts';
import { writeFileAtomic } from './atomic-write.ts';

/** Everything the agent needs to run, loaded from `config.json` and the files it names. */
export interface AgentFiles {
  config: AgentConfig;
  credential: string;
  trust: JWKS;
  /** Absolute paths. */
  stateDir: string;
  credentialFile: string;
  trustFile: string;
}

/**
 * Reads a JWKS file of public keys.
 *
 * @example
 * ```ts
 * const trust = await readTrustFile('/etc/palisade/jwks.json');
 * ```
 */
export async function readTrustFile(file: string): Promise<JWKS> {
  const json = await readJsonFile(file);
  try {
    return parseTrustAnchor(json);
  } catch (err) {
    throw new AgentFileError(file, (err as Error).message, { cause: err });
  }
}

/**
 * Loads `config.json` and the credential and trust anchor it names (paths relative to the configuration file).
 *
 * @example
 * ```ts
 * const { config, credential, trust, stateDir } = await loadAgentFiles('/etc/palisade/config.json');
 * ```
 */
export async function loadAgentFiles(configFile: string): Promise<AgentFiles> {
  const parsed = AgentConfig.safeParse(await readJsonFile(configFile));
  if (!parsed.success) throw new AgentFileError(configFile, `not an agent configuration: ${formatIssues(parsed.error)}`);
  const config = parsed.data;
  const base = dirname(resolve(configFile));
  const credentialFile = resolve(base, config.credentialFile);
  const credential = (await readAgentFile(credentialFile)).trim();
  if (credential === '') throw new AgentFileError(credentialFile, 'the credential is empty');
  const trustFile = resolve(base, config.trustFile);
  return { config, credential, trust: await readTrustFile(trustFile), stateDir: resolve(base, config.stateDir), credentialFile, trustFile };
}

/**
 * Writes what enrollment returned into `dir`: `credential` (mode 0600), `jwks.json` (the trust anchor) and
 * `config.json`, which names them relative to itself. Returns the path of `config.json`.
 *
 * @example
 * ```ts
 * const configFile = await writeEnrollment('/etc/palisade', url, await enroll({ url, token }));
 * ```
 */
export async function writeEnrollment(dir: string, url: string, enrollment: Enrollment): Promise<string> {
  const config: AgentConfig = {
    url,
    clusterId: enrollment.clusterId,
    tenantId: enrollment.tenantId,
    issuer: enrollment.issuer,
    credentialFile: 'credential',
    trustFile: 'jwks.json',
    stateDir: 'state',
  };
  await writeFileAtomic(join(dir, config.credentialFile), enrollment.credential + '\n', 0o600);
  await writeFileAtomic(join(dir, config.trustFile), JSON.stringify(enrollment.jwks, null, 2) + '\n', 0o644);
  const configFile = join(dir, 'config.json');
  await writeFileAtomic(configFile, JSON.stringify(config, null, 2) + '\n', 0o644);
  return configFile;
}
