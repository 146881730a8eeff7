import { TrustPersistError } from '../bundle/trust-keeper.ts';
import { loadAgentFiles } from '../node/agent-files.ts';
import { AgentFileError } from '../node/agent-file.ts';
import { agentClient } from './agent-client.ts';
import { EXIT, parse, required } from './args.ts';

/**
 * `palisade-agent trust refresh --config FILE`: fetches the control plane's JWKS and replaces the trust file with it,
 * keeping the key of the stored bundle (see `mergeAnchor`). A running agent does the same hourly on its own.
 */
export async function trustRefreshCommand(args: string[]): Promise<number> {
  const { values } = parse(args, { config: { type: 'string' }, json: { type: 'boolean' } });
  const files = await loadAgentFiles(required(values, 'config'));
  const client = agentClient(files);
  await client.restore(); // so that the stored bundle's key is pinned
  const result = await client.refreshTrust().catch((err: unknown) => {
    throw err instanceof TrustPersistError ? new AgentFileError(files.trustFile, err.message, { cause: err }) : err;
  });
  if (values.json) {
    process.stdout.write(JSON.stringify({ trustFile: files.trustFile, ...result }, null, 2) + '\n');
    return EXIT.ok;
  }
  const list = (kids: string[]) => (kids.length > 0 ? kids.join(', ') : 'none');
  const lines = [`trust anchor ${result.changed ? `updated: ${files.trustFile}` : 'unchanged'}`, `keys: ${list(result.keys)}`];
  if (result.added.length > 0) lines.push(`added: ${list(result.added)}`);
  if (result.removed.length > 0) lines.push(`removed: ${list(result.removed)}`);
  if (result.kept.length > 0) lines.push(`kept (signs the stored bundle; no longer published as is): ${list(result.kept)}`);
  process.stdout.write(lines.join('\n') + '\n');
  return EXIT.ok;
}
