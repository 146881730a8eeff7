import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { bearerToken } from '../auth/authenticate.ts';
import { PalisadeError } from '../http/errors.ts';
import type { AgentStateCache, BundleMeta } from './agent-state.ts';

export type { AgentPrincipal } from './agent-state.ts';

/** What the bundle route learns from authentication: the bundle as last seen, and how to record a newer one. */
export interface AgentPoll {
  bundle: BundleMeta | null;
  record(bundle: BundleMeta): Promise<void>;
}

/** `/v1/agent/*` (but enroll): only a valid cluster credential; API keys are not accepted here. */
export function authenticateAgent(cache: AgentStateCache): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const token = bearerToken(c.req.header('authorization'));
    if (!token) throw new PalisadeError('unauthorized', 'send the cluster credential as Authorization: Bearer <credential>');
    const entry = await cache.resolve(c.get('db'), token);
    if (!entry) throw new PalisadeError('unauthorized', token.startsWith('psk_') ? 'API keys cannot call agent endpoints; use the cluster credential' : 'the cluster credential is unknown, expired or revoked');
    c.set('agent', entry.agent);
    c.set('agentPoll', { bundle: entry.bundle, record: (bundle) => cache.recordBundle(token, entry, bundle) });
    await next();
  };
}
