import { resolve } from 'node:path';
import { BundleContentV1 } from '../../../schema/bundle.ts';
import { BundleVerificationError } from '../bundle/errors.ts';
import { DEFAULT_MAX_BUNDLE_BYTES, verifyBundle } from '../bundle/verify.ts';
import { formatIssues } from '../format-issues.ts';
import { AgentFileError, readAgentFile } from '../node/agent-file.ts';
import { UsageError } from './args.ts';

export interface EvaluationBundle {
  content: BundleContentV1;
  /** 0 for unsigned content (it carries no revision). */
  revision: number;
  /** Said on stderr: an expired bundle, unverified content. */
  notes: string[];
}

export interface BundleSource {
  file: string;
  insecureUnsigned: boolean;
  trustFile?: string;
  configFile?: string;
}

/** The claims of a JWS, unverified: only to fill in what neither the command line nor a configuration pins. */
function peekClaims(jws: string): Record<string, unknown> {
  try {
    return JSON.parse(Buffer.from(jws.trim().split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

async function unsigned(file: string, text: string): Promise<EvaluationBundle> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new AgentFileError(file, `not JSON (${(err as Error).message})`);
  }
  const parsed = await BundleContentV1.safeParseAsync(json);
  if (!parsed.success) throw new AgentFileError(file, `not bundle content (GET /v1/clusters/{id}/bundle): ${formatIssues(parsed.error)}`);
  return { content: parsed.data, revision: 0, notes: [`${file}: unsigned bundle content, not verified (--insecure-unsigned)`] };
}

/**
 * The bundle `evaluate` decides with: a signed bundle (compact JWS, as the agent stores it) verified against `--trust`
 * or the trust anchor of `--config` (expired ones are used, with a note), or, with `--insecure-unsigned`, the JSON
 * content `GET /v1/clusters/{id}/bundle` returns. Every problem names the file (exit 2).
 */
export async function loadEvaluationBundle(source: BundleSource): Promise<EvaluationBundle> {
  const { file } = source;
  const text = await readAgentFile(resolve(file));
  if (text.trimStart().startsWith('{')) {
    if (!source.insecureUnsigned) throw new AgentFileError(file, 'is unsigned bundle content (JSON); pass --insecure-unsigned to evaluate it without verification');
    return unsigned(file, text);
  }
  // The configuration's schemas (the whole agent's settings) are loaded only here: unsigned content needs none.
  const { loadAgentFiles, readTrustFile } = await import('../node/agent-files.ts');
  const configured = source.configFile === undefined ? undefined : await loadAgentFiles(source.configFile);
  if (source.trustFile === undefined && configured === undefined) throw new UsageError(`--trust JWKS (or --config FILE) is needed to verify the signed bundle ${file}`);
  const trust = source.trustFile !== undefined ? await readTrustFile(resolve(source.trustFile)) : configured!.trust;
  const claims = peekClaims(text);
  try {
    const bundle = await verifyBundle(text.trim(), {
      trust,
      issuer: configured?.config.issuer ?? String(claims.iss ?? ''),
      tenantId: configured?.config.tenantId ?? String(claims.tid ?? ''),
      clusterId: configured?.config.clusterId ?? String(claims.aud ?? ''),
      maxBytes: DEFAULT_MAX_BUNDLE_BYTES,
      now: new Date(),
      allowExpired: true,
    });
    const notes = bundle.expired ? [`${file}: bundle revision ${bundle.revision} expired at ${bundle.expiresAt.toISOString()}; evaluating with it anyway`] : [];
    return { content: bundle.content, revision: bundle.revision, notes };
  } catch (err) {
    if (err instanceof BundleVerificationError) throw new AgentFileError(file, `bundle rejected (${err.code}): ${err.message}`, { cause: err });
    throw err;
  }
}
