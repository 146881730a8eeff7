import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { JWKS } from '../bundle/jws.ts';
import { AgentConfig, formatIssues, parseTrustAnchor } from '../config.ts';
import type { Enrollment } from '../enroll.ts';
import { writeFileAtomic } from './atomic-write.ts';

/**
 * A configuration, credential or trust file that is missing or unusable. The message names the file.
 *
 * @example
 * ```ts
 * try {
 *   await loadAgentFiles(path);
 * } catch (err) {
 *   if (err instanceof AgentFileError) console.error(err.message); // "/etc/palisade/config.json: no such file"
 * }
 * ```
 */
export class AgentFileError extends Error {
  override readonly name = 'AgentFileError';
  constructor(readonly file: string, problem: string, options?: { cause?: unknown }) {
    super(`${file}: ${problem}`, options);
  }
}

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

/** Reads a file, turning "missing" and "unreadable" into an `AgentFileError` naming it. */
export async function readAgentFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AgentFileError(file, code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(err)})`, { cause: err });
  }
}

export async function readJsonFile(file: string): Promise<unknown> {
  const text = await readAgentFile(file);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AgentFileError(file, `not JSON (${(err as Error).message})`, { cause: err });
  }
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
