/**
 * Cloudflare Workers entry: the control plane on Neon Postgres through the Neon serverless driver (WebSocket Pool).
 * The only Workers-specific file of the control plane besides its Node twin, workers/node.ts. Nothing Node-only here.
 */
import { neonConfig, Pool } from '@neondatabase/serverless';
import { drizzle } from 'drizzle-orm/neon-serverless';
import type { ExecutionContext } from 'hono';
import { createApp } from './app.ts';
import { workersSharedCache, type WorkersCache } from './agents/shared-cache.ts';
import { oidcVerifier } from './auth/oidc.ts';
import { importSigningKey, type KeyRing } from './bundles/signing-keys.ts';
import { configFromEnv } from './config.ts';
import { sessionKeyFrom } from './console/session.ts';
import type { Database, Db } from './db/db.ts';
import { runRetention } from './audit/retention.ts';
import { loggableError } from './db/errors.ts';
import { nextDueAt } from './webhooks/dispatch.store.ts';
import { dispatchDue } from './webhooks/dispatcher.ts';
import { dohResolver } from './webhooks/doh.ts';
import { pruneDeliveries } from './webhooks/retention.ts';
import { recomputeLapsedCompliance } from './assurance/lapse.ts';
import { importCredentialsKey } from './registries/credentials.ts';
import { syncDueRegistries } from './registries/sync.ts';

/** The parts of the Queues API used here (a producer binding), typed locally: no Workers type package is installed. */
interface WebhookQueue {
  send(body: unknown, options?: { delaySeconds?: number }): Promise<void>;
}
interface MessageBatch {
  ackAll(): void;
}

export interface WorkerEnv {
  /** Postgres connection string (a Neon database in production). */
  DATABASE_URL?: string;
  PALISADE_OPERATOR_KEY?: string;
  /**
   * Bundle signing key, a private JWK (secret). PALISADE_SIGNING_KEYS_PREVIOUS: a JSON array of retired ones, still
   * published; PALISADE_SIGNING_KEYS_NEXT: a JSON array of keys published ahead of a rotation (see `KeyRing`).
   */
  PALISADE_SIGNING_KEY?: string;
  PALISADE_SIGNING_KEYS_PREVIOUS?: string;
  PALISADE_SIGNING_KEYS_NEXT?: string;
  /** Issuer named in bundles; defaults to the origin of the first request. */
  PALISADE_ISSUER?: string;
  /**
   * Test and development only: `host:port` of a local WebSocket-to-TCP proxy in front of a plain Postgres. Turns off
   * TLS and pipelining, which a local server with trust auth does not understand. Production leaves it unset.
   */
  PALISADE_NEON_WS_PROXY?: string;
  /** Registry credentials key (secret): 32 random bytes, base64 (`openssl rand -base64 32`). Without it credentials are refused. */
  PALISADE_REGISTRY_CREDENTIALS_KEY?: string;
  /** Queue producer (wrangler.toml): wakes the webhook dispatcher, this Worker's own queue consumer. */
  WEBHOOK_QUEUE?: WebhookQueue;
  [binding: string]: unknown;
}

/** A Pool per request: on Workers a WebSocket must not outlive the request that opened it. */
function neonDatabase(connectionString: string): Database {
  return {
    open() {
      const pool = new Pool({ connectionString });
      return { db: drizzle(pool) as unknown as Db, close: () => pool.end() };
    },
  };
}

function sharedCache() {
  const cache = (globalThis as { caches?: { default?: WorkersCache } }).caches?.default;
  return cache ? workersSharedCache(cache) : undefined;
}

function useLocalProxy(proxy: string): void {
  neonConfig.wsProxy = (host, port) => `${proxy}/v2?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineConnect = false;
  neonConfig.pipelineTLS = false;
  neonConfig.forceDisablePgSSL = true;
}

const binding = (env: WorkerEnv, name: keyof WorkerEnv): string | undefined => {
  const value = env[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
};

async function keyRing(env: WorkerEnv): Promise<KeyRing> {
  const current = binding(env, 'PALISADE_SIGNING_KEY');
  if (!current) throw new Error('the PALISADE_SIGNING_KEY secret (a private JWK) is not set');
  const list = (name: keyof WorkerEnv) => Promise.all((JSON.parse(binding(env, name) ?? '[]') as object[]).map((jwk) => importSigningKey(jwk)));
  return { current: await importSigningKey(JSON.parse(current)), previous: await list('PALISADE_SIGNING_KEYS_PREVIOUS'), next: await list('PALISADE_SIGNING_KEYS_NEXT') };
}

/** The database's connection string; through the local WebSocket proxy when one is bound (tests, wrangler dev). */
function databaseUrl(env: WorkerEnv): string {
  const url = binding(env, 'DATABASE_URL');
  if (!url) throw new Error('the DATABASE_URL binding is not set');
  const proxy = binding(env, 'PALISADE_NEON_WS_PROXY');
  if (proxy) useLocalProxy(proxy);
  return url;
}

async function build(env: WorkerEnv, origin: string) {
  const url = databaseUrl(env);
  const config = configFromEnv(env);
  const signing = { issuer: binding(env, 'PALISADE_ISSUER') ?? origin, keys: await keyRing(env) };
  return createApp({
    registries: await registryDeps(env),
    database: neonDatabase(url),
    config: config.app,
    signing,
    oidc: config.oidc ? oidcVerifier(config.oidc) : undefined,
    wakeWebhookDispatcher: env.WEBHOOK_QUEUE ? () => env.WEBHOOK_QUEUE!.send({ wake: true }) : undefined,
    // Isolates do not hear of each other's changes: bound how long one serves a cached bundle or credential.
    cacheMaxAgeMs: Number(binding(env, 'PALISADE_CACHE_MAX_AGE_MS') ?? 15_000),
    // The data center's cache, shared by its isolates: what an unchanged poll needs (checked against the markers).
    sharedCache: sharedCache(),
    // Every isolate must open every session cookie: PALISADE_SESSION_KEY, else a key derived (HKDF) from the signing key.
    console: { sessionKey: sessionKeyFrom(binding(env, 'PALISADE_SESSION_KEY') ?? `console-session:${binding(env, 'PALISADE_SIGNING_KEY')}`) },
  });
}

/**
 * Registry sync's fetch, resolver and credentials key on Workers. As for webhooks, the fetch cannot be pinned to the
 * addresses the SSRF guard checked (see dispatchWebhooks); the platform's refusal of private destinations is relied on.
 */
async function registryDeps(env: WorkerEnv) {
  const key = binding(env, 'PALISADE_REGISTRY_CREDENTIALS_KEY');
  return {
    fetch: (input: RequestInfo | URL, init?: RequestInit) => fetch(input, init),
    resolve: dohResolver((input, init) => fetch(input, init)),
    credentialsKey: key ? await importCredentialsKey(key) : undefined,
  };
}

/** The cron (wrangler.toml [triggers]) that syncs registries that are due. */
const REGISTRY_SYNC_CRON = '*/5 * * * *';

async function syncRegistries(env: WorkerEnv, at: Date): Promise<void> {
  const url = databaseUrl(env);
  const handle = neonDatabase(url).open();
  try {
    const deps = await registryDeps(env);
    // A few registries per run: a Worker invocation has a bounded number of subrequests.
    const { synced } = await syncDueRegistries(handle.db, { ...deps, allowLoopback: configFromEnv(env).app.registries?.allowLoopback ?? false, now: () => at }, 3);
    console.log(`registry sync: ${synced} registries synced`);
  } finally {
    await handle.close();
  }
}

/** Wakes sooner than the cron trigger would, for retries due within this long. */
const REQUEUE_WITHIN_MS = 60_000;

/**
 * The webhook dispatcher on Workers: passes run from the queue consumer (woken by ingest, tests and manual retries)
 * and from the cron trigger (every minute, for retries). A pass sends until nothing more is due (a few batches at
 * most) and, when the next retry is due within a minute, queues a delayed wake for it.
 */
async function dispatchWebhooks(env: WorkerEnv): Promise<void> {
  const url = databaseUrl(env);
  const handle = neonDatabase(url).open();
  try {
    const deps = {
      // Not pinned to the addresses the SSRF guard checked: a Worker's fetch cannot be given an address or a lookup,
      // and the platform resolves the name itself (with Cloudflare's resolver). We rely on Cloudflare refusing
      // subrequests to hosts that resolve to loopback, private and other reserved ranges, as its edge does for
      // proxied origins ("DNS points to prohibited IP"), and on a Worker having no route into a private network of
      // ours. That is our assumption, not a guarantee we found documented for Workers subrequests; the Node entry
      // closes the DNS-rebinding window itself (pinnedFetch in workers/node.ts).
      fetch: (input: RequestInfo | URL, init?: RequestInit) => fetch(input, init),
      now: () => new Date(),
      resolve: dohResolver((input, init) => fetch(input, init)),
      random: Math.random,
      allowLoopback: configFromEnv(env).app.webhooks?.allowLoopback ?? false,
    };
    for (let round = 0; round < 10 && (await dispatchDue(handle.db, deps)).more; round++);
    const next = await nextDueAt(handle.db);
    const wait = next ? next.getTime() - Date.now() : Infinity;
    if (env.WEBHOOK_QUEUE && wait < REQUEUE_WITHIN_MS) await env.WEBHOOK_QUEUE.send({ wake: true }, { delaySeconds: Math.max(1, Math.ceil(wait / 1000)) });
  } finally {
    await handle.close();
  }
}

/** The cron (wrangler.toml [triggers]) that runs retention, hourly; every other cron runs the webhook dispatcher. */
const RETENTION_CRON = '17 * * * *';

/**
 * Retention, two jobs side by side: raw audit events past each tenant's retention (rollups stay;
 * workers/audit/retention.ts) and delivered and failed webhook deliveries past the delivery retention
 * (workers/webhooks/retention.ts). One failing does not stop the other; the run then fails with its error.
 */
async function retention(env: WorkerEnv, at: Date): Promise<void> {
  const url = databaseUrl(env);
  const days = configFromEnv(env).app.webhooks?.deliveryRetentionDays;
  const handle = neonDatabase(url).open();
  try {
    const [events, deliveries, lapsed] = await Promise.allSettled([runRetention(handle.db, at), pruneDeliveries(handle.db, at, days), recomputeLapsedCompliance(handle.db, at)]);
    if (events.status === 'fulfilled') console.log(`audit retention: deleted ${events.value.deleted} raw events`);
    if (deliveries.status === 'fulfilled') console.log(`webhook delivery retention: deleted ${deliveries.value.deleted} deliveries`);
    if (lapsed.status === 'fulfilled') console.log(`image compliance: ${lapsed.value.changed} lapsed verdicts recomputed`);
    const failed = [events, deliveries, lapsed].filter((r) => r.status === 'rejected');
    if (failed.length > 0) throw failed.length === 1 ? failed[0]!.reason : new AggregateError(failed.map((r) => r.reason), 'retention failed');
  } finally {
    await handle.close();
  }
}

/** Background work fails with an error the platform logs whole: database errors are rethrown without their parameters. */
const withSafeErrors = <T>(work: Promise<T>): Promise<T> =>
  work.catch((err: unknown) => {
    throw new Error(loggableError(err));
  });

/** Built once per isolate (bindings do not change within one); a failed build is retried by the next request. */
let app: ReturnType<typeof build> | undefined;

export default {
  async fetch(request: Request, env: WorkerEnv, ctx: ExecutionContext): Promise<Response> {
    if (!app) {
      app = build(env, new URL(request.url).origin);
      app.catch(() => (app = undefined));
    }
    return (await app).fetch(request, env, ctx);
  },
  /** Queue consumer: any message means "deliveries may be due"; one pass serves the whole batch. */
  async queue(batch: MessageBatch, env: WorkerEnv): Promise<void> {
    await withSafeErrors(dispatchWebhooks(env));
    batch.ackAll();
  },
  /** Cron triggers (wrangler.toml): hourly retention (audit events, webhook deliveries); otherwise retries come due without anyone waking the dispatcher. */
  async scheduled(controller: { cron: string; scheduledTime: number }, env: WorkerEnv, ctx: ExecutionContext): Promise<void> {
    if (controller.cron === RETENTION_CRON) ctx.waitUntil(withSafeErrors(retention(env, new Date(controller.scheduledTime))));
    else if (controller.cron === REGISTRY_SYNC_CRON) ctx.waitUntil(withSafeErrors(syncRegistries(env, new Date(controller.scheduledTime))));
    else ctx.waitUntil(withSafeErrors(dispatchWebhooks(env)));
  },
};
