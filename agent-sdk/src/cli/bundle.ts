import { join, resolve } from 'node:path';
import { formatSummary, summarizeBundle } from '../bundle/summary.ts';
import { BundleVerificationError } from '../bundle/errors.ts';
import { STATE_FILES } from '../bundle/store.ts';
import { DEFAULT_MAX_BUNDLE_BYTES, verifyBundle, type VerifiedBundle } from '../bundle/verify.ts';
import { loadAgentFiles, readTrustFile, type AgentFiles } from '../node/agent-files.ts';
import { AgentFileError, readAgentFile } from '../node/agent-file.ts';
import { agentClient } from './agent-client.ts';
import { EXIT, optional, parse, required, UsageError } from './args.ts';

/** `palisade-agent bundle pull --config FILE`: one poll with the agent's state directory, then where it is and a summary. */
export async function pullCommand(args: string[]): Promise<number> {
  const { values } = parse(args, { config: { type: 'string' }, json: { type: 'boolean' } });
  const files = await loadAgentFiles(required(values, 'config'));
  const client = agentClient(files);
  await client.restore();
  const result = await client.pollOnce();
  const lastError = client.status().lastError;
  if (result.outcome === 'activated' && lastError?.code === 'persist_failed')
    throw new AgentFileError(join(files.stateDir, STATE_FILES.jws), `revision ${result.bundle.revision} was verified but could not be stored: ${lastError.message}`);
  if (result.outcome === 'rejected' || result.outcome === 'failed') {
    const kept = client.active ? `; keeping revision ${client.active.revision}` : '';
    const code = (result.error as { code?: string }).code ?? 'error';
    process.stderr.write(`bundle ${result.outcome === 'rejected' ? 'rejected' : 'download failed'} (${code}): ${result.error.message}${kept}\n`);
    return result.outcome === 'rejected' ? EXIT.rejected : EXIT.unavailable;
  }
  const bundle = client.active;
  if (bundle === null) throw new Error('no active bundle after a successful poll');
  const saved = join(files.stateDir, STATE_FILES.jws);
  const headline = result.outcome === 'activated' ? `downloaded and verified; saved to ${saved}` : `not modified; the stored bundle is ${saved}`;
  print(bundle, Boolean(values.json), headline, { file: saved });
  return EXIT.ok;
}

/** `palisade-agent bundle verify --trust JWKS FILE`: offline verification, e.g. on an air-gapped cluster. */
export async function verifyCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      trust: { type: 'string' }, issuer: { type: 'string' }, tenant: { type: 'string' }, cluster: { type: 'string' },
      config: { type: 'string' }, 'allow-expired': { type: 'boolean' }, json: { type: 'boolean' },
    },
    1,
  );
  const file = positionals[0];
  if (file === undefined) throw new UsageError('the bundle FILE to verify is missing');
  const configured: AgentFiles | undefined = values.config === undefined ? undefined : await loadAgentFiles(values.config);
  const trustFile = optional(values, 'trust');
  if (trustFile === undefined && configured === undefined) throw new UsageError('--trust is required (or --config)');
  const trust = trustFile !== undefined ? await readTrustFile(resolve(trustFile)) : configured!.trust;
  const jws = await readAgentFile(resolve(file));
  const claims = peekClaims(jws);
  const pinned = {
    issuer: optional(values, 'issuer') ?? configured?.config.issuer,
    tenantId: optional(values, 'tenant') ?? configured?.config.tenantId,
    clusterId: optional(values, 'cluster') ?? configured?.config.clusterId,
  };
  const unpinned = Object.entries(pinned).filter(([, v]) => v === undefined).map(([k]) => k);
  if (unpinned.length > 0) process.stderr.write(`warning: ${unpinned.join(', ')} not checked (taken from the bundle itself); pin them with --issuer, --tenant, --cluster\n`);
  let bundle: VerifiedBundle;
  try {
    bundle = await verifyBundle(jws, {
      trust,
      issuer: pinned.issuer ?? String(claims.iss ?? ''),
      tenantId: pinned.tenantId ?? String(claims.tid ?? ''),
      clusterId: pinned.clusterId ?? String(claims.aud ?? ''),
      maxBytes: DEFAULT_MAX_BUNDLE_BYTES,
      now: new Date(),
      allowExpired: Boolean(values['allow-expired']),
    });
  } catch (err) {
    if (!(err instanceof BundleVerificationError)) throw err;
    process.stderr.write(`${file}: bundle rejected (${err.code}): ${err.message}\n`);
    return EXIT.rejected;
  }
  print(bundle, Boolean(values.json), `${file}: signature and contents OK`);
  return EXIT.ok;
}

function print(bundle: VerifiedBundle, json: boolean, headline: string, extra: Record<string, unknown> = {}): void {
  const summary = { ...summarizeBundle(bundle), ...extra };
  process.stdout.write(json ? JSON.stringify(summary, null, 2) + '\n' : `${headline}\n${formatSummary(summary)}\n`);
}

/** The claims of a JWS, unverified: only to fill in checks the user did not pin. */
function peekClaims(jws: string): Record<string, unknown> {
  try {
    const payload = jws.trim().split('.')[1] ?? '';
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
