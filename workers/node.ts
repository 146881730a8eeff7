/**
 * Node entry: the control plane on Node with embedded PGlite (default, persisted under PALISADE_DATA_DIR) or a real
 * Postgres server (DATABASE_URL). The only Node-only file of the control plane besides the Workers entry's twin.
 */
import { lookup } from 'node:dns/promises';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP, type LookupFunction } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import { serve } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Agent } from 'undici';
import { createApp, type PalisadeApp } from './app.ts';
import { bootstrapKeyProblem } from './auth/api-keys.crypto.ts';
import { generateSigningKey, importSigningKey, type KeyRing } from './bundles/signing-keys.ts';
import { oidcVerifier } from './auth/oidc.ts';
import { configFromEnv } from './config.ts';
import { sessionKeyFrom } from './console/session.ts';
import type { Database, Db } from './db/db.ts';
import { loggableError } from './db/errors.ts';
import { runRetention } from './audit/retention.ts';
import { bootstrap, type BootstrapOutcome } from './tenants/bootstrap.ts';
import { pollAnsweringServer } from './node/poll-listener.ts';
import { keepDataDirSecure, lockDataDir, restrictUmask, secureDataDir } from './node/data-dir.ts';
import { renderStartupFailure, StartupError } from './node/startup-error.ts';
import { startDispatchLoop, type DispatchLoop } from './webhooks/dispatch-loop.ts';
import { dispatchDue } from './webhooks/dispatcher.ts';
import { pruneDeliveries } from './webhooks/retention.ts';
import { resolvePermitted, type GuardOptions, type Resolve } from './webhooks/ssrf.ts';
import { recomputeLapsedCompliance } from './assurance/lapse.ts';
import { generateCredentialsKey, importCredentialsKey } from './registries/credentials.ts';
import { syncDueRegistries, type SyncDeps } from './registries/sync.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

/** The console's static files (htmx, stylesheet); on Workers the same folder is served by Static Assets. */
export const CONSOLE_STATIC_DIR = fileURLToPath(new URL('./console/static', import.meta.url));
export const consoleAssets = () => serveStatic({ root: CONSOLE_STATIC_DIR });

/**
 * The key sealing console session cookies: PALISADE_SESSION_KEY, or a random one kept under the data directory
 * (`session-key`, mode 0600) so sessions survive restarts.
 */
export function loadSessionKey(dataDir: string, configured: string | undefined): Promise<CryptoKey> {
  if (configured) return sessionKeyFrom(configured);
  const file = join(dataDir, 'session-key');
  mkdirSync(dataDir, { recursive: true });
  if (!existsSync(file)) writeFileSync(file, Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64'), { mode: 0o600 });
  return sessionKeyFrom(readFileSync(file, 'utf8').trim());
}

export interface NodeDatabase extends Database {
  db: Db;
  close(): Promise<void>;
}

/*
 * The database drivers and undici are imported when used, not with this module: a server uses one of the two drivers,
 * and undici (1.3 of the 3.2 MB of the built server) only at its first outgoing request. Loading them up front cost
 * `npm start` about 0.1 s of CPU.
 */

/** PGlite in `dataDir` (or in memory when undefined), migrated. */
export async function openPglite(dataDir?: string): Promise<NodeDatabase & { client: PGlite }> {
  const [{ PGlite }, { drizzle: drizzlePglite }, { migrate: migratePglite }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('drizzle-orm/pglite'),
    import('drizzle-orm/pglite/migrator'),
  ]);
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const client = dataDir ? new PGlite(dataDir) : new PGlite();
  const db = drizzlePglite(client) as unknown as Db;
  try {
    await migratePglite(db as never, { migrationsFolder: MIGRATIONS_DIR });
  } catch (err) {
    await client.close();
    throw err;
  }
  return { db, client, open: () => ({ db, close: async () => {} }), close: () => client.close() };
}

/** A real Postgres server through node-postgres, migrated. */
export async function openPostgres(url: string): Promise<NodeDatabase> {
  const [{ default: pg }, { drizzle: drizzleNodePg }, { migrate: migrateNodePg }] = await Promise.all([
    import('pg'),
    import('drizzle-orm/node-postgres'),
    import('drizzle-orm/node-postgres/migrator'),
  ]);
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const db = drizzleNodePg(pool) as unknown as Db;
  try {
    await migrateNodePg(db as never, { migrationsFolder: MIGRATIONS_DIR });
  } catch (err) {
    await pool.end();
    throw err;
  }
  return { db, open: () => ({ db, close: async () => {} }), close: () => pool.end() };
}

export { bootstrap, type BootstrapOutcome } from './tenants/bootstrap.ts';

/**
 * The Node server's signing keys: generated once and kept under the data directory (`signing-key.json`, mode 0600).
 * Rotating (see `KeyRing`): put the new private JWK in `signing-keys-next/<kid>.json` and restart, so agents learn
 * it; later move the current key to `signing-keys-previous/<kid>.json`, the new one to `signing-key.json`, restart.
 */
export async function loadKeyRing(dataDir: string): Promise<KeyRing> {
  const currentFile = join(dataDir, 'signing-key.json');
  mkdirSync(dataDir, { recursive: true });
  if (!existsSync(currentFile)) {
    const { privateJwk } = await generateSigningKey();
    writeFileSync(currentFile, JSON.stringify(privateJwk, null, 2), { mode: 0o600 });
  }
  const current = await importSigningKey(JSON.parse(readFileSync(currentFile, 'utf8')));
  const others = async (name: string) => {
    const dir = join(dataDir, name);
    mkdirSync(dir, { recursive: true });
    const keys = await Promise.all(readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => importSigningKey(JSON.parse(readFileSync(join(dir, f), 'utf8')))));
    return keys.filter((k) => k.kid !== current.kid);
  };
  return { current, previous: await others('signing-keys-previous'), next: await others('signing-keys-next') };
}

/**
 * Retention on Node, an hour apart (the first a minute after start), on timers that do not keep the process alive:
 * raw audit events past each tenant's retention (`runRetention`), then delivered and failed webhook deliveries older
 * than `deliveryRetentionDays` (`pruneDeliveries`). A run still going when the next is due is not doubled; one job
 * failing does not keep the other from running. Returns a stop function.
 */
export function startRetentionTimer(db: Db, intervalMs = 3_600_000, firstAfterMs = 60_000, deliveryRetentionDays?: number): () => void {
  const jobs: Array<[string, (now: Date) => Promise<{ deleted: number }>]> = [
    ['audit retention (raw events)', (now) => runRetention(db, now)],
    ['webhook delivery retention', (now) => pruneDeliveries(db, now, deliveryRetentionDays)],
    // Not a deletion: image verdicts that lapsed with time (scan age, allow-list expiry), recomputed.
    ['image compliance recompute', (now) => recomputeLapsedCompliance(db, now).then(({ changed }) => ({ deleted: changed }))],
  ];
  let running = false;
  const run = async () => {
    if (running) return;
    running = true;
    const now = new Date();
    try {
      for (const [name, job] of jobs) {
        await job(now).then(
          ({ deleted }) => deleted > 0 && console.log(`${name}: deleted ${deleted}`),
          (err: unknown) => console.error(`${name} failed`, loggableError(err)),
        );
      }
    } finally {
      running = false;
    }
  };
  const first = setTimeout(run, firstAfterMs).unref();
  const timer = setInterval(run, intervalMs).unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}

/**
 * The registry credentials key: 32 random bytes, base64, generated once under the data directory
 * (`registry-credentials.key`, mode 0600) like the signing key. Losing it loses the stored credentials (re-enter them).
 */
export async function loadCredentialsKey(dataDir: string): Promise<CryptoKey> {
  const file = join(dataDir, 'registry-credentials.key');
  mkdirSync(dataDir, { recursive: true });
  if (!existsSync(file)) writeFileSync(file, generateCredentialsKey(), { mode: 0o600 });
  return importCredentialsKey(readFileSync(file, 'utf8'));
}

/** Registry sync on Node: a pass a minute (the first 30 s after start) on a timer that does not keep the process alive. */
export function startRegistrySyncTimer(db: Db, deps: SyncDeps, onChanged: (tenantId: string) => void, intervalMs = 60_000): () => void {
  let running = false;
  const run = async () => {
    if (running) return;
    running = true;
    try {
      const { synced, changedTenants } = await syncDueRegistries(db, deps);
      changedTenants.forEach(onChanged);
      if (synced > 0) console.log(`registry sync: ${synced} registries synced`);
    } catch (err) {
      console.error('registry sync failed', err);
    } finally {
      running = false;
    }
  };
  const first = setTimeout(run, Math.min(30_000, intervalMs)).unref();
  const timer = setInterval(run, intervalMs).unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}

/** Every address a name resolves to, through the system resolver, for the webhook SSRF guard. */
export const resolveWithNodeDns: Resolve = async (hostname) => (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

/**
 * The webhook dispatcher's fetch on Node, which closes the DNS-rebinding window of the SSRF guard: undici with a
 * connect-time `lookup` that resolves the name again through `resolvePermitted` (the guard's resolver and rules, http
 * or https by the URL) and hands the socket only addresses that passed, so what is connected to is what was checked.
 * A name that answered a public address to the guard and a private one now fails the attempt. IP literals are not
 * looked up (the guard judged them). TLS still verifies the certificate against the URL's host name (SNI and name
 * check use it, not the address). `ca`: trust anchors in place of the default ones, for tests.
 */
export function pinnedFetch(options: GuardOptions & { resolve: Resolve; ca?: string }): typeof fetch & { close(): Promise<void> } {
  const agent = (Agent: typeof import('undici').Agent, http: boolean) => {
    const lookup: LookupFunction = (hostname, opts, callback) => {
      const wanted = opts.family === 4 || opts.family === 'IPv4' ? 4 : opts.family === 6 || opts.family === 'IPv6' ? 6 : 0;
      resolvePermitted(hostname, { ...options, http }).then((addresses) => {
        const found = addresses.map((address) => ({ address, family: isIP(address) })).filter((a) => wanted === 0 || a.family === wanted);
        if (found.length === 0) callback(Object.assign(new Error(`${hostname} has no IPv${wanted} address`), { code: 'ENOTFOUND' }), []);
        else if (opts.all) callback(null, found);
        else callback(null, found[0]!.address, found[0]!.family);
      }, (err: Error) => callback(err, []));
    };
    return new Agent({ connect: { lookup, ...(options.ca ? { ca: options.ca } : {}) } });
  };
  let client: Promise<{ fetch: typeof import('undici').fetch; http: Agent; https: Agent }> | undefined;
  const load = () => (client ??= import('undici').then(({ Agent, fetch }) => ({ fetch, http: agent(Agent, true), https: agent(Agent, false) })));
  const send = async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : input);
    const { fetch: undiciFetch, http, https } = await load();
    return undiciFetch(input as never, { ...(init as object), dispatcher: url.protocol === 'http:' ? http : https });
  };
  const close = async () => {
    if (client === undefined) return;
    const { http, https } = await client;
    await Promise.all([http.close(), https.close()]);
  };
  return Object.assign(send as unknown as typeof fetch, { close });
}

/** What start-up tells the operator about the first tenant and PALISADE_BOOTSTRAP_KEY (never the chosen key). */
function reportBootstrap(outcome: BootstrapOutcome, keySet: boolean): void {
  switch (outcome.kind) {
    case 'created':
      console.log(`Created tenant "${outcome.tenant.name}" (${outcome.tenant.id}).`);
      console.log(outcome.chosen ? 'Its admin API key is the value of PALISADE_BOOTSTRAP_KEY.' : `Its admin API key, shown only now:\n\n  ${outcome.apiKey}\n`);
      return;
    case 'key_added':
      console.log(
        `PALISADE_BOOTSTRAP_KEY: this data directory already had tenant "${outcome.tenant.name}"; the key is now its administrator API key "${outcome.keyName}" (list and revoke keys at /v1/api-keys).`,
      );
      return;
    case 'key_unusable':
      console.error(`palisade: warning: PALISADE_BOOTSTRAP_KEY is an API key of this installation that is ${outcome.reason}; it stays ${outcome.reason} and is refused (401). Set a new value to add a new administrator key.`);
      return;
    case 'no_tenant':
      console.error('palisade: warning: PALISADE_BOOTSTRAP_KEY was not added: the first tenant (or its administrator role) no longer exists. Create tenants with POST /v1/tenants (PALISADE_OPERATOR_KEY).');
      return;
    case 'unchanged':
      if (!keySet) console.log('Tenant "default" exists (its admin key was shown on the first start). Lost it? Restart with PALISADE_BOOTSTRAP_KEY set to a new key to add one.');
  }
}

/** Listens on `port`, or fails with one line when the port is taken. */
async function listen(app: PalisadeApp, port: number) {
  const server = serve({ fetch: app.fetch, port, createServer: pollAnsweringServer(app) });
  await new Promise<void>((ok, fail) => {
    server.once('listening', ok);
    server.once('error', (err: NodeJS.ErrnoException) =>
      fail(
        err.code === 'EADDRINUSE'
          ? new StartupError('port_in_use', `port ${port} is already in use (another Palisade server?); stop that process or set PORT to a free port`, { cause: err })
          : err,
      ),
    );
  });
  return server;
}

/** Starts the server (`npm start` runs it through `node/start.mjs`, which checks the Node version first). */
export async function main(): Promise<void> {
  const env = process.env;
  const weakKey = bootstrapKeyProblem(env.PALISADE_BOOTSTRAP_KEY);
  if (weakKey) throw new StartupError('invalid_setting', weakKey);
  const dataDir = resolve(env.PALISADE_DATA_DIR ?? '.palisade');
  // Owner-only from here on: the data directory holds the database (secrets in its WAL) and the signing keys.
  restrictUmask();
  secureDataDir(dataDir);
  if (!env.DATABASE_URL) {
    const lock = lockDataDir(dataDir);
    process.once('exit', () => lock.release());
  }
  const port = Number(env.PORT ?? 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new StartupError('invalid_setting', `PORT must be a port number, not "${env.PORT}"`);
  const config = configFromEnv(env);
  const database = env.DATABASE_URL ? await openPostgres(env.DATABASE_URL) : await openPglite(dataDir);
  const stopSecuring = keepDataDirSecure(dataDir);
  let keys: KeyRing;
  try {
    keys = await loadKeyRing(dataDir);
    const chosenKey = env.PALISADE_BOOTSTRAP_KEY || undefined;
    reportBootstrap(await bootstrap(database.db, chosenKey), chosenKey !== undefined);
  } catch (err) {
    await database.close();
    stopSecuring();
    throw err;
  }
  const issuer = env.PALISADE_ISSUER ?? `http://localhost:${port}`;
  let webhooks: DispatchLoop | undefined;
  const registriesAllowLoopback = config.app.registries?.allowLoopback ?? false;
  const registryFetch = pinnedFetch({ resolve: resolveWithNodeDns, allowLoopback: registriesAllowLoopback });
  const credentialsKey = await loadCredentialsKey(dataDir);
  const app = createApp({
    registries: { fetch: registryFetch, resolve: resolveWithNodeDns, credentialsKey },
    database,
    config: config.app,
    signing: { issuer, keys },
    oidc: config.oidc ? oidcVerifier(config.oidc) : undefined,
    wakeWebhookDispatcher: () => webhooks?.wake(),
    console: { sessionKey: loadSessionKey(dataDir, env.PALISADE_SESSION_KEY), assets: consoleAssets() },
  });
  const server = await listen(app, port).catch(async (err: unknown) => {
    await database.close();
    stopSecuring();
    throw err;
  });
  // The webhook dispatcher: a background loop on this process (a pass a second, at once when woken).
  const allowLoopback = config.app.webhooks?.allowLoopback ?? false;
  const webhookFetch = pinnedFetch({ resolve: resolveWithNodeDns, allowLoopback });
  webhooks = startDispatchLoop((signal) => dispatchDue(database.db, { fetch: webhookFetch, now: () => new Date(), resolve: resolveWithNodeDns, random: Math.random, allowLoopback, signal }));
  const stopRetention = startRetentionTimer(database.db, undefined, undefined, config.app.webhooks?.deliveryRetentionDays);
  const stopRegistrySync = startRegistrySyncTimer(
    database.db,
    { fetch: registryFetch, resolve: resolveWithNodeDns, allowLoopback: registriesAllowLoopback, credentialsKey, now: () => new Date() },
    (tenantId) => app.changes.tenantChanged(tenantId),
  );
  const address = server.address();
  console.log(`Palisade control plane on http://localhost:${typeof address === 'object' && address ? address.port : port}, console at / (${env.DATABASE_URL ? 'Postgres' : `PGlite in ${dataDir}`})`);
  const stop = () => {
    server.close();
    stopRetention();
    stopRegistrySync();
    void Promise.resolve(webhooks?.stop())
      .then(() => database.close())
      .then(stopSecuring)
      .finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((err: unknown) => {
    console.error(renderStartupFailure(err));
    process.exit(1);
  });
}
export { renderStartupFailure };
