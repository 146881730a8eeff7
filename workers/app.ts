import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { registerApiKeyRoutes } from './access/api-keys.routes.ts';
import { authenticateAgent } from './agents/agent-auth.ts';
import { AgentStateCache } from './agents/agent-state.ts';
import { MemorySharedCache, type SharedCache } from './agents/shared-cache.ts';
import { registerAgentRoutes } from './agents/agent.routes.ts';
import { unchangedPoll, unchangedPollHeaders, type PollRequest } from './agents/bundle.download.ts';
import { registerClusterAgentRoutes } from './agents/cluster-agent.routes.ts';
import { BundleService } from './bundles/bundle.service.ts';
import { ChangeFeed } from './bundles/change-feed.ts';
import type { KeyRing } from './bundles/signing-keys.ts';
import { registerRoleRoutes } from './access/roles.routes.ts';
import type { AppEnv } from './app-env.ts';
import { registerAuditRoutes } from './audit/audit.routes.ts';
import type { AuditConfig, OnEventsStored } from './audit/audit.types.ts';
import { authenticate } from './auth/authenticate.ts';
import { PrincipalCache } from './auth/principal-cache.ts';
import type { OidcVerifier } from './auth/oidc.ts';
import { registerClusterRoutes } from './clusters/clusters.routes.ts';
import { registerConsole } from './console/console.routes.tsx';
import { randomSessionKey } from './console/session.ts';
import type { Database } from './db/db.ts';
import { PalisadeError } from './http/errors.ts';
import { notFoundOrNotAllowed } from './http/method-not-allowed.ts';
import { onError } from './http/problem.ts';
import { registerImageRoutes } from './images/images.routes.ts';
import { SCAN_RESULTS_PATH } from './images/scan-results.routes.ts';
import { registerAssurancePolicyRoutes } from './assurance/assurance-policies.routes.ts';
import { dohResolver } from './webhooks/doh.ts';
import type { Resolve } from './webhooks/ssrf.ts';
import { registerDocsRoutes } from './openapi/openapi.routes.ts';
import { registerRuntimePolicyRoutes } from './policies/policies.routes.ts';
import { registerRegistryRoutes } from './registries/registries.routes.ts';
import { registerRuntimeProfileRoutes } from './runtime-profiles/runtime-profiles.routes.ts';
import { registerScopeRoutes } from './scopes/scopes.routes.ts';
import { MAX_SIGNATURE_SET_UPLOAD_BYTES } from '../schema/file-signature-sets.ts';
import { EFFECTIVE_SIGNATURES_PATH, FILE_SIGNATURE_SETS_PATH, registerFileSignatureRoutes } from './file-signatures/file-signature-sets.routes.ts';
import { SignatureSetService } from './file-signatures/signature-set.service.ts';
import { registerFileThreatProtectionRoutes } from './settings/file-threat-protection.routes.ts';
import { registerSignatureValidatorRoutes } from './signature-validators/signature-validators.routes.ts';
import { registerTenantRoutes } from './tenants/tenants.routes.ts';
import { INGEST_PATH } from './audit/audit-ingest.routes.ts';
import { webhookOutbox } from './webhooks/audit-hook.ts';
import { registerWebhookRoutes } from './webhooks/webhooks.routes.ts';

export interface AppConfig {
  /** Platform operator credential for `POST /v1/tenants`; provisioning is off without it. */
  operatorKey?: string;
  /** Largest accepted request body. */
  maxBodyBytes?: number;
  /** Audit ingest limits (batch bytes and events, per-cluster rate); defaults in workers/audit/audit.types.ts. */
  audit?: AuditConfig;
  /**
   * Webhooks; `allowLoopback` (development only): receivers on loopback addresses, over http too.
   * `deliveryRetentionDays`: how long delivered and failed deliveries stay in the log (30 days by default).
   */
  webhooks?: { allowLoopback?: boolean; deliveryRetentionDays?: number };
  /** Registry sync; `allowLoopback` (development only, PALISADE_REGISTRIES_ALLOW_LOOPBACK): registries on loopback, over http. */
  registries?: { allowLoopback?: boolean };
  /** Largest accepted scan report (POST .../scan-results); 16 MiB by default. */
  maxScanReportBytes?: number;
  /** Largest accepted signature set upload (/v1/file-signature-sets); 8 MiB by default. */
  maxSignatureSetBytes?: number;
}

export interface AppDeps {
  database: Database;
  config: AppConfig;
  /** Bundle signing: the key ring (current + previous keys) and the issuer named in every bundle. */
  signing: { issuer: string; keys: KeyRing; ttlSeconds?: number };
  oidc?: OidcVerifier;
  now?: () => Date;
  /**
   * The staleness bound (ms): how long a compiled bundle is trusted from memory, and how old the change markers that
   * cached agent credentials are checked against may be. A change or revocation made through another instance takes
   * effect here within it.
   */
  cacheMaxAgeMs?: number;
  /** The bytes of signed bundles (and, apart, of signature sets) an instance keeps in memory; 32 MiB each by default. */
  cacheMaxBytes?: number;
  /**
   * The cache shared by the instances of one place (Workers: the Cache API; Node: one per process, the default), and
   * how often a cached credential is read again from the database regardless (which records its last use; 30 min).
   */
  sharedCache?: SharedCache;
  credentialRefreshMs?: number;
  /** Tells the webhook dispatcher that deliveries are due now (Node: its loop; Workers: a Queue message). */
  wakeWebhookDispatcher?: () => void | Promise<void>;
  /**
   * The web console: the key sealing its session cookies (random per process when absent, so sessions end with it)
   * and, on Node, the handler serving `/assets/*` (on Workers, Static Assets serve them before the Worker runs).
   */
  console?: { sessionKey?: Promise<CryptoKey>; assets?: MiddlewareHandler };
  /**
   * Registry sync: the fetch and resolver its requests use (Node: the pinned fetch and system DNS; Workers: fetch and
   * DNS-over-HTTPS) and the key that seals registry credentials (without it, credentials are refused).
   */
  registries?: { fetch?: typeof fetch; resolve?: Resolve; credentialsKey?: CryptoKey };
}

/** What `createApp` returns: the Hono app, and what entry files and tests reach past it for. */
export type PalisadeApp = Hono<AppEnv> & {
  bundles: BundleService;
  signatureSets: SignatureSetService;
  changes: ChangeFeed;
  /** The 304 headers of a poll memory alone can answer, for an entry that answers before building a `Request`. */
  unchangedPoll: (req: PollRequest) => Record<string, string> | undefined;
};

/** The one control-plane app; entry files give it a database and configuration for their runtime. */
export function createApp(deps: AppDeps): PalisadeApp {
  const app = new Hono<AppEnv>();
  const now = deps.now ?? (() => new Date());
  const changes = new ChangeFeed();
  const cacheMaxAgeMs = deps.cacheMaxAgeMs ?? 60_000;
  const bundles = new BundleService({ issuer: deps.signing.issuer, keys: deps.signing.keys, ttlSeconds: deps.signing.ttlSeconds ?? 24 * 3600, cacheMaxAgeMs, ...(deps.cacheMaxBytes ? { cacheMaxBytes: deps.cacheMaxBytes } : {}), now }, changes);
  const credentials = new AgentStateCache({ shared: deps.sharedCache ?? new MemorySharedCache(), maxAgeMs: cacheMaxAgeMs, refillAfterMs: deps.credentialRefreshMs ?? 30 * 60_000, now }, changes);
  const signatureSets = new SignatureSetService(bundles.settings, changes);
  app.onError(onError);
  app.notFound(notFoundOrNotAllowed(app));

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  registerDocsRoutes(app);

  const maxSize = deps.config.maxBodyBytes ?? 1024 * 1024;
  let hasExecutionCtx: boolean | undefined;
  const withDb: MiddlewareHandler<AppEnv> = async (c, next) => {
    const handle = deps.database.open();
    c.set('db', handle.db);
    c.set('changes', changes);
    try {
      await next();
    } finally {
      const closing = handle.close();
      let background = false;
      // Outside Workers there is no execution context and the getter throws: learn that once, not per request.
      if (hasExecutionCtx !== false) {
        try {
          c.executionCtx.waitUntil(closing);
          background = hasExecutionCtx = true;
        } catch {
          hasExecutionCtx = false;
        }
      }
      if (!background) await closing;
    }
  };
  const limit = (bytes: number, what: string): MiddlewareHandler<AppEnv> => {
    const check = bodyLimit({ maxSize: bytes, onError: () => { throw new PalisadeError('payload_too_large', `${what} exceeds ${bytes} bytes`); } });
    // GET and HEAD carry no body; asking would build a Request on Node for every poll.
    return (c, next) => (c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : check(c, next));
  };
  const general = limit(maxSize, 'the body');
  // Scan reports of large images run to megabytes; they get their own limit.
  const scanReports = limit(deps.config.maxScanReportBytes ?? 16 * 1024 * 1024, 'the scan report');
  // Signature sets (ClamAV databases) run to megabytes too.
  const signatureSetUploads = limit(deps.config.maxSignatureSetBytes ?? MAX_SIGNATURE_SET_UPLOAD_BYTES, 'the signature set');
  const limitFor = (path: string) => (SCAN_RESULTS_PATH.test(path) ? scanReports : path.startsWith(FILE_SIGNATURE_SETS_PATH) ? signatureSetUploads : general);
  // First: most agent polls are unchanged and answered from memory, before the body limit and the database handle.
  app.use('/v1/agent/bundle', unchangedPoll(credentials, bundles));
  app.use('/v1/*', (c, next) => limitFor(c.req.path)(c, next), withDb);

  registerTenantRoutes(app, deps.config.operatorKey);
  registerAgentRoutes(app, { bundles, credentials, now, rotationOverlapSeconds: 600 });

  const principals = new PrincipalCache(cacheMaxAgeMs);
  const tenantScoped = authenticate({ oidc: deps.oidc, now, cache: principals });
  // `prefix/*` matches `prefix` itself too: one registration, so the credential is checked once per request.
  for (const prefix of ['/v1/scopes', '/v1/clusters', '/v1/runtime-profiles', '/v1/signature-validators', '/v1/registries', '/v1/images', '/v1/settings', '/v1/runtime-policies', '/v1/roles', '/v1/api-keys', '/v1/audit', '/v1/webhooks', '/v1/assurance-policies', FILE_SIGNATURE_SETS_PATH, EFFECTIVE_SIGNATURES_PATH]) {
    app.use(`${prefix}/*`, tenantScoped);
  }
  // A key revoked, deleted or given other roles, or a role changed, must not keep its old rights from memory here.
  const forgetAfterWrites: MiddlewareHandler<AppEnv> = async (c, next) => {
    await next();
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && c.res.status < 400) principals.forgetTenant(c.get('principal').tenantId);
  };
  app.use('/v1/api-keys/*', forgetAfterWrites);
  app.use('/v1/roles/*', forgetAfterWrites);
  registerScopeRoutes(app);
  // A deleted cluster takes its credentials along (ON DELETE CASCADE): this process stops trusting them from memory too.
  app.delete('/v1/clusters/:id', async (c, next) => {
    await next();
    if (c.res.status === 204) credentials.forgetCluster(c.get('principal').tenantId, c.req.param('id'));
  });
  registerClusterRoutes(app);
  registerClusterAgentRoutes(app, { bundles, credentials, now });
  registerRuntimeProfileRoutes(app);
  registerSignatureValidatorRoutes(app);
  const registrySync = {
    fetch: deps.registries?.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init)),
    resolve: deps.registries?.resolve ?? dohResolver((input, init) => fetch(input, init)),
    allowLoopback: deps.config.registries?.allowLoopback ?? false,
    credentialsKey: deps.registries?.credentialsKey,
    now,
  };
  registerRegistryRoutes(app, registrySync);
  registerImageRoutes(app, { now });
  registerAssurancePolicyRoutes(app, { now });
  registerFileThreatProtectionRoutes(app);
  registerFileSignatureRoutes(app, { service: signatureSets, agentOnly: authenticateAgent(credentials) });
  registerRuntimePolicyRoutes(app);
  registerRoleRoutes(app);
  registerApiKeyRoutes(app);
  const webhookSettings = { allowLoopback: deps.config.webhooks?.allowLoopback ?? false, now, wake: deps.wakeWebhookDispatcher };
  registerWebhookRoutes(app, webhookSettings);
  const outbox = webhookOutbox(webhookSettings);
  app.use(INGEST_PATH, outbox.wakeAfterIngest);
  /** Runs inside each audit ingest transaction with the newly stored events: the hook for the webhooks outbox. */
  const onAuditEventsStored: OnEventsStored | undefined = outbox.onStored;
  registerAuditRoutes(app, { agentOnly: authenticateAgent(credentials), now, config: deps.config.audit, onStored: onAuditEventsStored });
  // The web console at /, next to the API: it calls the API routes above in-process with the user's credential.
  registerConsole(app, { api: app, sessionKey: deps.console?.sessionKey ?? randomSessionKey(), withDb, oidc: deps.oidc, now, assets: deps.console?.assets });
  return Object.assign(app, { bundles, signatureSets, changes, unchangedPoll: (req: PollRequest) => unchangedPollHeaders(credentials, bundles, req) });
}
