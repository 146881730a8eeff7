import { and, eq, gt, isNull, or, sql } from 'drizzle-orm';
import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { AgentEnforcement } from '../../schema/enforcement.ts';
import { clusterCredentials, clusterStatus } from '../../schema/tables/index.ts';
import type { AppEnv } from '../app-env.ts';
import type { BundleService } from '../bundles/bundle.service.ts';
import { jwksOf } from '../bundles/signing-keys.ts';
import { inTenant } from '../db/db.ts';
import { isUniqueViolation, sqlState } from '../db/errors.ts';
import { readJson, validate } from '../http/body.ts';
import { PalisadeError } from '../http/errors.ts';
import { authenticateAgent } from './agent-auth.ts';
import type { AgentPrincipal, AgentStateCache } from './agent-state.ts';
import { bumpChangeMarker } from './change-markers.ts';
import { recordEnforcement } from './enforcement.store.ts';
import { serveBundle } from './bundle.download.ts';
import { issueCredential, redeemEnrollmentToken } from './enrollment.store.ts';

const EnrollRequest = z.strictObject({ token: z.string().min(1).max(512) });
/** A status report is kept per cluster and shown to people: every field is bounded, and so is the body. */
export const MAX_AGENT_STATUS_BYTES = 64 * 1024;
const MAX_COUNTERS = 200;
const AgentErrorReport = z.object({ code: z.string().max(100), message: z.string().max(2000), at: z.string().max(40) });
export const AgentStatus = z
  .object({
    activeRevision: z.int().min(0).nullable(),
    activeDigest: z.string().max(100).nullable().optional(),
    lastDownloadAt: z.string().max(40).nullable().optional(),
    lastActivationAt: z.string().max(40).nullable().optional(),
    lastError: AgentErrorReport.nullable().optional(),
    counters: z
      .record(z.string().max(128), z.int().min(0))
      .refine((r) => Object.keys(r).length <= MAX_COUNTERS, `at most ${MAX_COUNTERS} counters`)
      .optional(),
    agentVersion: z.string().max(64).optional(),
    /** The file signature set in use (agent-sdk SignatureSetClient.status()): which, which the bundle names, why not. */
    fileSignatures: z
      .object({
        activeVersion: z.int().min(0).nullable(),
        activeDigest: z.string().max(100).nullable(),
        namedVersion: z.int().min(0).nullable(),
        namedDigest: z.string().max(100).nullable(),
        lastError: AgentErrorReport.nullable(),
        counters: z.record(z.string().max(64), z.int().min(0)).refine((r) => Object.keys(r).length <= 20, 'at most 20 counters'),
      })
      .optional(),
    /** What this instance enforces (schema/enforcement.ts); stored per cluster, component and instance. */
    enforcement: AgentEnforcement.optional(),
  })
  .meta({ id: 'AgentStatus' });

export interface AgentRouteDeps {
  bundles: BundleService;
  credentials: AgentStateCache;
  now: () => Date;
  /** How long a rotated-out credential keeps working. */
  rotationOverlapSeconds: number;
}

/** The credential is no longer valid in the database though this process still trusted it: forget it, answer 401. */
function gone(deps: AgentRouteDeps, agent: AgentPrincipal): PalisadeError {
  deps.credentials.forgetCluster(agent.tenantId, agent.clusterId);
  return new PalisadeError('unauthorized', 'the cluster credential is unknown, expired or revoked');
}

const alreadyRotated = (cause?: unknown) =>
  new PalisadeError('conflict', 'this credential was already rotated; use its successor (a lost successor needs a new enrollment)', { cause });

export function registerAgentRoutes(app: Hono<AppEnv>, deps: AgentRouteDeps): void {
  const { bundles } = deps;
  app.get('/.well-known/jwks.json', (c) => {
    c.header('cache-control', 'public, max-age=300');
    return c.json(jwksOf(bundles.settings.keys));
  });

  app.post('/v1/agent/enroll', async (c) => {
    const { token } = await validate(EnrollRequest, await readJson(c));
    const enrolled = await redeemEnrollmentToken(c.get('db'), token, deps.now());
    if (!enrolled) throw new PalisadeError('unauthorized', 'the enrollment token is unknown, used or expired');
    return c.json({ clusterId: enrolled.clusterId, tenantId: enrolled.tenantId, issuer: bundles.settings.issuer, credential: enrolled.credential, jwks: jwksOf(bundles.settings.keys) }, 201);
  });

  const agentOnly = authenticateAgent(deps.credentials);
  app.use('/v1/agent/bundle', agentOnly);
  app.use('/v1/agent/status', agentOnly);
  app.use('/v1/agent/status', bodyLimit({ maxSize: MAX_AGENT_STATUS_BYTES, onError: () => { throw new PalisadeError('payload_too_large', `a status report must not exceed ${MAX_AGENT_STATUS_BYTES} bytes`); } }));
  app.use('/v1/agent/credentials/*', agentOnly);

  app.get('/v1/agent/bundle', (c) => serveBundle(c, bundles));

  app.post('/v1/agent/status', async (c) => {
    const agent = c.get('agent');
    const status = await validate(AgentStatus, await readJson(c));
    try {
      await inTenant(c.get('db'), agent.tenantId, async (tx) => {
        await tx
          .insert(clusterStatus)
          .values({ tenantId: agent.tenantId, clusterId: agent.clusterId, status })
          .onConflictDoUpdate({ target: clusterStatus.clusterId, set: { status, reportedAt: sql`now()` } });
        if (status.enforcement) await recordEnforcement(tx, agent.tenantId, agent.clusterId, status.enforcement, deps.now());
      });
    } catch (err) {
      // The cluster was deleted (another instance may still have trusted the credential from memory): so was the credential.
      if (sqlState(err) === '23503') throw gone(deps, agent);
      throw err;
    }
    return c.body(null, 204);
  });

  /** The agent swaps its credential; the old one keeps working for the overlap so no poll fails meanwhile. */
  app.post('/v1/agent/credentials/rotate', async (c) => {
    const agent = c.get('agent');
    const at = deps.now();
    const overlapEnd = new Date(at.getTime() + deps.rotationOverlapSeconds * 1000).toISOString();
    const issued = await inTenant(c.get('db'), agent.tenantId, async (tx) => {
      const cred = clusterCredentials;
      // Checked again in the database, not from the cache: a credential revoked, expired or deleted (with its cluster)
      // elsewhere must not mint its successor, nor one already rotated out (it would mint a second line of them).
      // The overlap only ever shortens the old credential's life.
      const [current] = await tx
        .update(cred)
        .set({ expiresAt: sql`least(coalesce(${cred.expiresAt}, ${overlapEnd}::timestamptz), ${overlapEnd}::timestamptz)` })
        .where(
          and(
            eq(cred.tenantId, agent.tenantId),
            eq(cred.id, agent.credentialId),
            isNull(cred.revokedAt),
            or(isNull(cred.expiresAt), gt(cred.expiresAt, at.toISOString())),
            sql`not exists (select 1 from cluster_credentials successor where successor.rotated_from = ${cred.id})`,
          ),
        )
        .returning({ expiresAt: cred.expiresAt });
      if (!current) {
        const [rotated] = await tx.select({ id: cred.id }).from(cred).where(and(eq(cred.tenantId, agent.tenantId), eq(cred.rotatedFrom, agent.credentialId)));
        if (rotated) throw alreadyRotated();
        return undefined;
      }
      // The old credential's life was shortened: instances that trust it from a cache read it again.
      await bumpChangeMarker(tx, agent.tenantId);
      const successor = await issueCredential(tx, agent.tenantId, agent.clusterId, agent.credentialId).catch((err: unknown) => {
        throw isUniqueViolation(err) ? alreadyRotated(err) : err;
      });
      return { ...successor, previousExpiresAt: new Date(current.expiresAt!).toISOString() };
    });
    if (!issued) throw gone(deps, agent);
    deps.credentials.forgetCluster(agent.tenantId, agent.clusterId);
    return c.json({ credential: issued.secret, previousCredentialExpiresAt: issued.previousExpiresAt }, 201);
  });
}
