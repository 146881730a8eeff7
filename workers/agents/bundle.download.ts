import type { Context, MiddlewareHandler } from 'hono';
import { bearerToken } from '../auth/authenticate.ts';
import type { AgentStateCache } from './agent-state.ts';
import type { AppEnv } from '../app-env.ts';
import type { BundleService, SignedBundle } from '../bundles/bundle.service.ts';
import { gzipText } from '../bundles/bundle.sign.ts';
import { notFound, PalisadeError } from '../http/errors.ts';

const MAX_WAIT_SECONDS = 120;
/** While waiting, look at the database this often too, for changes made through other instances. */
const RECHECK_MS = 2000;

/** Whether `If-None-Match` names `etag` (weak comparison, `*` matches anything). */
export function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.trim() === '*' || ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

export async function gzip(text: string): Promise<ArrayBuffer> {
  return new Response(new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer();
}

/** What a poll carries that the unchanged-poll check reads, as any runtime hands it over. */
export interface PollRequest {
  method: string;
  /** The request target as sent: path and query (`/v1/agent/bundle?wait=30`), or a full URL. */
  target: string;
  ifNoneMatch: string | undefined;
  authorization: string | undefined;
}

export const BUNDLE_PATH = '/v1/agent/bundle';

/**
 * The 304's headers when memory alone can answer a poll (a GET without a query string, a credential this instance
 * vouches for, the ETag it knows, a bundle still servable), else `undefined` and the request takes the full route.
 * The same answer `serveBundle` gives, without a database handle: the Hono middleware and the Node entry's listener
 * (which answers before a `Request` is built) both ask it.
 */
export function unchangedPollHeaders(cache: AgentStateCache, bundles: BundleService, req: PollRequest): Record<string, string> | undefined {
  if (!req.ifNoneMatch || req.method !== 'GET' || req.target.includes('?')) return undefined;
  const token = bearerToken(req.authorization);
  const known = token ? cache.peek(token)?.bundle : undefined;
  if (!known || !bundles.servable(known) || !matches(req.ifNoneMatch, known.etag)) return undefined;
  return { etag: known.etag, 'cache-control': 'no-cache', 'palisade-bundle-revision': String(known.revision) };
}

/** The unchanged poll as the first middleware of `GET /v1/agent/bundle` (see `unchangedPollHeaders`). */
export function unchangedPoll(cache: AgentStateCache, bundles: BundleService): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const headers = unchangedPollHeaders(cache, bundles, { method: c.req.method, target: c.req.url, ifNoneMatch: c.req.header('if-none-match'), authorization: c.req.header('authorization') });
    if (headers) return c.body(null, 304, headers);
    await next();
  };
}

/**
 * `GET /v1/agent/bundle`: 304 when the agent has the current bundle, else the signed bundle (gzip if accepted).
 * `?wait=N` holds a 304 for up to N seconds and answers as soon as a newer bundle exists.
 */
export async function serveBundle(c: Context<AppEnv>, bundles: BundleService): Promise<Response> {
  const { tenantId, clusterId } = c.get('agent');
  const wait = c.req.query('wait');
  const waitSeconds = wait === undefined ? 0 : Number(wait);
  if (!Number.isInteger(waitSeconds) || waitSeconds < 0 || waitSeconds > MAX_WAIT_SECONDS) {
    throw new PalisadeError('invalid_parameters', 'invalid query parameters', { errors: [{ parameter: 'wait', detail: `must be whole seconds from 0 to ${MAX_WAIT_SECONDS}` }] });
  }
  const ifNoneMatch = c.req.header('if-none-match');
  // The poll state (checked against the database's change marker) knows the stored bundle: an unchanged poll ends here.
  const poll = c.get('agentPoll');
  const known = poll?.bundle && bundles.servable(poll.bundle) ? poll.bundle : undefined;
  if (known && waitSeconds === 0 && matches(ifNoneMatch, known.etag)) {
    return c.body(null, 304, { ETag: known.etag, 'Cache-Control': 'no-cache', 'Palisade-Bundle-Revision': String(known.revision) });
  }
  const current = () => bundles.current(c.get('db'), tenantId, clusterId);
  let bundle: SignedBundle | undefined = await bundles.current(c.get('db'), tenantId, clusterId, known?.etag);
  if (!bundle) throw notFound('cluster');
  if (poll && bundle.etag !== known?.etag) await poll.record({ revision: bundle.revision, digest: bundle.digest, etag: bundle.etag, kid: bundle.kid, expiresAt: bundle.expiresAt });
  const deadline = Date.now() + waitSeconds * 1000;
  while (matches(ifNoneMatch, bundle.etag) && Date.now() < deadline) {
    const signal = AbortSignal.timeout(Math.min(RECHECK_MS, deadline - Date.now()));
    await bundles.changes.next(tenantId, signal);
    bundle = await current();
    if (!bundle) throw notFound('cluster');
  }
  c.header('ETag', bundle.etag);
  c.header('Cache-Control', 'no-cache');
  c.header('Palisade-Bundle-Revision', String(bundle.revision));
  if (matches(ifNoneMatch, bundle.etag)) return c.body(null, 304);
  c.header('Content-Type', 'application/jose');
  c.header('Vary', 'Accept-Encoding');
  if (/\bgzip\b/.test(c.req.header('accept-encoding') ?? '')) {
    c.header('Content-Encoding', 'gzip');
    bundle.gzipped ??= gzipText(bundle.jws);
    return c.body((await bundle.gzipped) as Uint8Array<ArrayBuffer>);
  }
  return c.body(bundle.jws);
}
