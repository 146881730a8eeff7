import type { Context } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { gzip, matches } from '../agents/bundle.download.ts';
import type { SignatureSetService } from './signature-set.service.ts';

/**
 * `GET /v1/agent/file-signatures`: the agent's tenant's effective signature set, signed (`application/jose`), gzip
 * when accepted; 304 when `If-None-Match` names the current one. The tenant comes from the cluster credential alone.
 */
export async function serveSignatures(c: Context<AppEnv>, service: SignatureSetService): Promise<Response> {
  const { tenantId } = c.get('agent');
  const set = await service.current(c.get('db'), tenantId);
  c.header('ETag', set.etag);
  c.header('Cache-Control', 'no-cache');
  c.header('Palisade-Signatures-Version', String(set.version));
  c.header('Palisade-Signatures-Digest', set.digest);
  if (matches(c.req.header('if-none-match'), set.etag)) return c.body(null, 304);
  c.header('Content-Type', 'application/jose');
  c.header('Vary', 'Accept-Encoding');
  if (/\bgzip\b/.test(c.req.header('accept-encoding') ?? '')) {
    c.header('Content-Encoding', 'gzip');
    set.gzipped ??= gzip(set.jws);
    return c.body(await set.gzipped);
  }
  return c.body(set.jws);
}
