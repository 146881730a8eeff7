import { and, eq, isNull, lt, or } from 'drizzle-orm';
import type { MiddlewareHandler } from 'hono';
import { clusterCredentials } from '../../schema/tables/index.ts';
import type { AppEnv } from '../app-env.ts';
import { bearerToken } from '../auth/authenticate.ts';
import { bySecretHash } from '../db/db.ts';
import { PalisadeError } from '../http/errors.ts';
import { sha256Hex } from '../ids.ts';

/** An agent, known only from its cluster credential. */
export interface AgentPrincipal {
  tenantId: string;
  clusterId: string;
  credentialId: string;
}

interface CachedCredential {
  agent: AgentPrincipal;
  expiresAt: number | null;
  readAt: number;
}

/**
 * Verified credentials are remembered for `maxAgeMs` so that a 304 poll needs no query; revoking through this process
 * drops them at once (`forgetCluster`), other instances within the max age.
 */
export class CredentialCache {
  readonly #byHash = new Map<string, CachedCredential>();
  constructor(readonly maxAgeMs: number) {}

  get(hash: string, now: number): AgentPrincipal | undefined {
    const hit = this.#byHash.get(hash);
    if (!hit || now - hit.readAt > this.maxAgeMs || (hit.expiresAt !== null && hit.expiresAt <= now)) return undefined;
    return hit.agent;
  }
  set(hash: string, agent: AgentPrincipal, expiresAt: number | null, now: number) {
    this.#byHash.set(hash, { agent, expiresAt, readAt: now });
  }
  forgetCluster(clusterId: string) {
    for (const [hash, entry] of this.#byHash) if (entry.agent.clusterId === clusterId) this.#byHash.delete(hash);
  }
}

/** `/v1/agent/*` (but enroll): only a valid cluster credential; API keys are not accepted here. */
export function authenticateAgent(cache: CredentialCache, now: () => Date): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const token = bearerToken(c.req.header('authorization'));
    if (!token) throw new PalisadeError('unauthorized', 'send the cluster credential as Authorization: Bearer <credential>');
    const hash = await sha256Hex(token);
    const at = now();
    let agent = cache.get(hash, at.getTime());
    if (!agent) {
      const found = await bySecretHash(c.get('db'), hash, async (tx) => {
        const [row] = await tx.select().from(clusterCredentials).where(eq(clusterCredentials.secretHash, hash));
        if (!row || row.revokedAt !== null || (row.expiresAt !== null && Date.parse(row.expiresAt) <= at.getTime())) return undefined;
        await tx
          .update(clusterCredentials)
          .set({ lastUsedAt: at.toISOString() })
          .where(and(eq(clusterCredentials.secretHash, hash), or(isNull(clusterCredentials.lastUsedAt), lt(clusterCredentials.lastUsedAt, new Date(at.getTime() - 60_000).toISOString()))));
        return { agent: { tenantId: row.tenantId, clusterId: row.clusterId, credentialId: row.id }, expiresAt: row.expiresAt ? Date.parse(row.expiresAt) : null };
      });
      if (!found) throw new PalisadeError('unauthorized', token.startsWith('psk_') ? 'API keys cannot call agent endpoints; use the cluster credential' : 'the cluster credential is unknown, expired or revoked');
      cache.set(hash, found.agent, found.expiresAt, at.getTime());
      agent = found.agent;
    }
    c.set('agent', agent);
    await next();
  };
}
