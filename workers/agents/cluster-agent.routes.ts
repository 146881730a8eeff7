import { and, asc, eq } from 'drizzle-orm';
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import type { BundleContentV1 } from '../../schema/bundle.ts';
import { clusterCredentials, clusterStatus } from '../../schema/tables/index.ts';
import { loadEnforcement } from './enforcement.store.ts';
import type { AppEnv } from '../app-env.ts';
import { requireRight } from '../auth/principal.ts';
import type { BundleService } from '../bundles/bundle.service.ts';
import { clusterKind } from '../clusters/clusters.routes.ts';
import { inTenant, type Tx } from '../db/db.ts';
import { readJson, validate } from '../http/body.ts';
import { notFound } from '../http/errors.ts';
import { UUID_PATTERN } from '../objects/filters.ts';
import { getObject } from '../objects/objects.store.ts';
import type { AgentStateCache } from './agent-state.ts';
import { bundleView } from './bundle-view.ts';
import { createEnrollmentToken, revokeCredentialChain } from './enrollment.store.ts';

const TokenRequest = z.strictObject({ expiresInSeconds: z.int().min(60).max(7 * 24 * 3600).default(3600) }).meta({ id: 'EnrollmentTokenRequest' });
const iso = (v: string | null) => (v === null ? null : new Date(v).toISOString());

async function clusterOr404(c: Context<AppEnv>, tx: Tx): Promise<string> {
  const id = c.req.param('id') ?? '';
  const tenantId = c.get('principal').tenantId;
  if (!UUID_PATTERN.test(id) || !(await getObject(tx, tenantId, clusterKind, id))) throw notFound(`cluster ${id}`);
  return id;
}

/** What users do with a cluster's agent: enroll it, see and revoke its credentials, see its bundle and status. */
export function registerClusterAgentRoutes(app: Hono<AppEnv>, deps: { bundles: BundleService; credentials: AgentStateCache; now: () => Date }): void {
  app.post('/v1/clusters/:id/enrollment-tokens', requireRight('clusters.manage'), async (c) => {
    const principal = c.get('principal');
    const text = await c.req.text();
    const { expiresInSeconds } = text.trim() === '' ? TokenRequest.parse({}) : await validate(TokenRequest, await readJson(c));
    const expiresAt = new Date(deps.now().getTime() + expiresInSeconds * 1000);
    const token = await inTenant(c.get('db'), principal.tenantId, async (tx) => {
      const clusterId = await clusterOr404(c, tx);
      return createEnrollmentToken(tx, { tenantId: principal.tenantId, clusterId, expiresAt, by: principal.subject });
    });
    return c.json({ token, expiresAt: expiresAt.toISOString() }, 201);
  });

  app.get('/v1/clusters/:id/credentials', requireRight('clusters.view'), async (c) => {
    const principal = c.get('principal');
    const rows = await inTenant(c.get('db'), principal.tenantId, async (tx) => {
      const clusterId = await clusterOr404(c, tx);
      return tx.select().from(clusterCredentials).where(and(eq(clusterCredentials.tenantId, principal.tenantId), eq(clusterCredentials.clusterId, clusterId))).orderBy(asc(clusterCredentials.id));
    });
    return c.json({ items: rows.map((r) => ({ id: r.id, prefix: r.prefix, createdAt: iso(r.createdAt), expiresAt: iso(r.expiresAt), revokedAt: iso(r.revokedAt), lastUsedAt: iso(r.lastUsedAt), rotatedFrom: r.rotatedFrom })) });
  });

  /** Revokes the credential with its rotation chain (revokeCredentialChain). */
  app.post('/v1/clusters/:id/credentials/:credentialId/revoke', requireRight('clusters.manage'), async (c) => {
    const principal = c.get('principal');
    const credentialId = c.req.param('credentialId');
    const clusterId = await inTenant(c.get('db'), principal.tenantId, async (tx) => {
      const id = await clusterOr404(c, tx);
      const revoked = UUID_PATTERN.test(credentialId) ? await revokeCredentialChain(tx, principal.tenantId, id, credentialId) : [];
      if (revoked.length === 0) throw notFound(`credential ${credentialId}`);
      return id;
    });
    deps.credentials.forgetCluster(principal.tenantId, clusterId);
    return c.body(null, 204);
  });

  /**
   * The content the agent receives, unsigned, for people and for trying policies; what the caller may not view
   * through the objects' own endpoints is left out (bundleView), and then no ETag or digest claims it is the bundle.
   */
  app.get('/v1/clusters/:id/bundle', requireRight('clusters.view', 'runtimePolicies.view'), async (c) => {
    const principal = c.get('principal');
    const id = await inTenant(c.get('db'), principal.tenantId, (tx) => clusterOr404(c, tx));
    const bundle = await deps.bundles.current(c.get('db'), principal.tenantId, id);
    if (!bundle) throw notFound(`cluster ${id}`);
    c.header('Palisade-Bundle-Revision', String(bundle.revision));
    const { view, redacted } = bundleView(JSON.parse(bundle.content) as BundleContentV1, principal.rights);
    if (redacted.length > 0) {
      c.header('Palisade-Bundle-Redacted', redacted.join(', '));
      return c.json(view);
    }
    c.header('ETag', bundle.etag);
    c.header('Palisade-Bundle-Digest', bundle.digest);
    return c.body(bundle.content, 200, { 'content-type': 'application/json' });
  });

  app.get('/v1/clusters/:id/status', requireRight('clusters.view'), async (c) => {
    const principal = c.get('principal');
    const found = await inTenant(c.get('db'), principal.tenantId, async (tx) => {
      const clusterId = await clusterOr404(c, tx);
      const [row] = await tx.select().from(clusterStatus).where(and(eq(clusterStatus.tenantId, principal.tenantId), eq(clusterStatus.clusterId, clusterId)));
      const enforcement = (await loadEnforcement(tx, principal.tenantId, new Date(), [clusterId])).get(clusterId) ?? { sections: [], detectOnly: [], instances: [] };
      return { row, enforcement };
    });
    // `enforcement`: what the cluster's live agent instances enforce, derived per instance (the last report's own
    // `enforcement` member is only the instance that reported last).
    const { row, enforcement } = found;
    return c.json(row ? { reportedAt: iso(row.reportedAt), ...(row.status as object), enforcement } : { reportedAt: null, enforcement });
  });
}
