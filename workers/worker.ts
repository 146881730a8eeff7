/**
 * Cloudflare Workers entry: the control plane on Neon Postgres through the Neon serverless driver (WebSocket Pool).
 * The only Workers-specific file of the control plane besides its Node twin, workers/node.ts. Nothing Node-only here.
 */
import { neonConfig, Pool } from '@neondatabase/serverless';
import { drizzle } from 'drizzle-orm/neon-serverless';
import type { ExecutionContext } from 'hono';
import { createApp } from './app.ts';
import { oidcVerifier } from './auth/oidc.ts';
import { importSigningKey, type KeyRing } from './bundles/signing-keys.ts';
import { configFromEnv } from './config.ts';
import type { Database, Db } from './db/db.ts';

export interface WorkerEnv {
  /** Postgres connection string (a Neon database in production). */
  DATABASE_URL?: string;
  PALISADE_OPERATOR_KEY?: string;
  /** Bundle signing key, a private JWK (secret); PALISADE_SIGNING_KEYS_PREVIOUS: a JSON array of retired ones. */
  PALISADE_SIGNING_KEY?: string;
  PALISADE_SIGNING_KEYS_PREVIOUS?: string;
  /** Issuer named in bundles; defaults to the origin of the first request. */
  PALISADE_ISSUER?: string;
  /**
   * Test and development only: `host:port` of a local WebSocket-to-TCP proxy in front of a plain Postgres. Turns off
   * TLS and pipelining, which a local server with trust auth does not understand. Production leaves it unset.
   */
  PALISADE_NEON_WS_PROXY?: string;
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
  const previous = await Promise.all((JSON.parse(binding(env, 'PALISADE_SIGNING_KEYS_PREVIOUS') ?? '[]') as object[]).map((jwk) => importSigningKey(jwk)));
  return { current: await importSigningKey(JSON.parse(current)), previous };
}

async function build(env: WorkerEnv, origin: string) {
  const url = binding(env, 'DATABASE_URL');
  if (!url) throw new Error('the DATABASE_URL binding is not set');
  const proxy = binding(env, 'PALISADE_NEON_WS_PROXY');
  if (proxy) useLocalProxy(proxy);
  const config = configFromEnv(env);
  const signing = { issuer: binding(env, 'PALISADE_ISSUER') ?? origin, keys: await keyRing(env) };
  return createApp({ database: neonDatabase(url), config: config.app, signing, oidc: config.oidc ? oidcVerifier(config.oidc) : undefined });
}

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
};
