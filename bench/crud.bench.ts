import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { Hono } from 'hono';
import pg from 'pg';
import { createApp } from '../workers/app.ts';
import { generateSigningKey } from '../workers/bundles/signing-keys.ts';
import type { Db } from '../workers/db/db.ts';
import { MIGRATIONS_DIR } from '../workers/node.ts';
import { fmt, median, report } from './stats.ts';
import { scratchDatabase } from './scratch-db.ts';

const ROUNDS = 3;
const SECONDS = 4;
const CONNECTIONS = 10;
/** About the tenant size the issue measured (4,263 objects): a page of a list must not cost a sort of all of them. */
const SCOPES = 4_000;
/** Clusters the policies' scope reaches, each with 3 admission replicas and 3 node agents reporting. */
const CLUSTERS = 100;

interface Load {
  rps: number;
  requests: number;
  non2xx: number;
  errors: number;
}

/** autocannon in its own process (bench/load-generator.mjs), never in the server's. */
async function load(url: string, method: 'GET' | 'POST', headers: Record<string, string>, body?: string): Promise<Load> {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-crud-'));
  const bodyFile = body === undefined ? '-' : join(dir, 'body.json');
  if (body !== undefined) writeFileSync(bodyFile, body);
  const env = { ...process.env, NODE_NO_WARNINGS: '1', LOAD_HEADERS: JSON.stringify(headers) };
  const child = spawn(process.execPath, [join(process.cwd(), 'bench/load-generator.mjs'), url, String(CONNECTIONS), String(SECONDS), bodyFile, method], { stdio: ['ignore', 'pipe', 'inherit'], env });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  await new Promise((resolve) => child.on('close', resolve));
  rmSync(dir, { recursive: true, force: true });
  const r = JSON.parse(stdout) as { requests: { average: number; total: number }; non2xx: number; errors: number };
  return { rps: r.requests.average, requests: r.requests.total, non2xx: r.non2xx, errors: r.errors };
}

const listen = (fetch: (req: Request) => Response | Promise<Response>) =>
  new Promise<{ url: string; server: ServerType }>((resolve) => {
    const server = serve({ fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => resolve({ url: `http://127.0.0.1:${info.port}`, server }));
  });

/** Every statement the server sends through its pool, BEGIN and COMMIT included (as the issue counted them). */
function countingPool(pool: pg.Pool) {
  const counts = { statements: 0, transactions: 0 };
  const count = (args: unknown[]) => {
    const text = typeof args[0] === 'string' ? args[0] : ((args[0] as { text?: string })?.text ?? '');
    counts.statements++;
    if (/^\s*begin\b/i.test(text)) counts.transactions++;
  };
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as { query: unknown }).query = (...args: unknown[]) => (count(args), query(...args));
  const wrapped = new WeakSet<object>();
  pool.on('connect', (client) => {
    if (wrapped.has(client)) return;
    wrapped.add(client);
    const clientQuery = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as { query: unknown }).query = (...args: unknown[]) => (count(args), clientQuery(...args));
  });
  return counts;
}

/**
 * CRUD over HTTP against a real Postgres server (PALISADE_TEST_PG_URL or DATABASE_URL; a scratch database is created
 * and dropped): the Node server (@hono/node-server, node-postgres pool) in this process, autocannon in its own, a
 * list of one page (`GET /v1/scopes`, tenant holding 4,000 scopes), a create (`POST /v1/runtime-profiles`, a kind
 * that feeds bundles), a runtime policy's create and a list of them (references, revision and notEnforcedIn), each beside a trivial Hono app served the same way, alternated, medians of the rounds; and the
 * statements and transactions the server sent per request, counted at the driver.
 */
export async function benchCrud(): Promise<void> {
  const scratch = await scratchDatabase('CRUD');
  if (!scratch) return;
  const pool = new pg.Pool({ connectionString: scratch.url, max: 10 });
  // Counting from the start: a client the pool opened before would go uncounted.
  const counts = countingPool(pool);
  const servers: ServerType[] = [];
  try {
    await migrate(drizzle(pool), { migrationsFolder: MIGRATIONS_DIR });
    const db = drizzle(pool) as unknown as Db;
    const operatorKey = 'bench-operator';
    const app = createApp({
      database: { open: () => ({ db, close: async () => {} }) },
      config: { operatorKey },
      signing: { issuer: 'https://bench', keys: { current: (await generateSigningKey()).key, previous: [] } },
    });
    const created = (await (await app.request('/v1/tenants', { method: 'POST', headers: { authorization: `Bearer ${operatorKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bench' }) })).json()) as { tenant: { id: string }; apiKey: string };
    await pool.query(
      `insert into scopes (tenant_id, id, name, spec, created_by, updated_by)
       select $1, gen_random_uuid(), 'bulk-' || i, jsonb_build_object('name', 'bulk-' || i, 'resources', '[]'::jsonb), 'bench', 'bench' from generate_series(1, ${SCOPES}) i`,
      [created.tenant.id],
    );
    // Clusters a policy reaches, each with live agents reporting what they enforce: what notEnforcedIn reads.
    await pool.query(
      `with c as (insert into clusters (tenant_id, id, name, spec, created_by, updated_by)
         select $1, gen_random_uuid(), 'prod-' || i, jsonb_build_object('name', 'prod-' || i), 'bench', 'bench' from generate_series(1, ${CLUSTERS}) i returning id)
       insert into agent_enforcement (tenant_id, cluster_id, component, instance, sections, detect_only)
       select $1, c.id, k.component, k.component || '-' || n, k.sections::jsonb, '[]' from c,
         (values ('admission', '["capabilitiesBlock","limitContainerPrivileges"]'), ('node', '["containerRuntimeProfiles"]')) k(component, sections), generate_series(1, 3) n`,
      [created.tenant.id],
    );
    const scope = (await (await app.request('/v1/scopes', { method: 'POST', headers: { authorization: `Bearer ${created.apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'prod', resources: [{ type: 'cluster', cluster: 'prod-*' }] }) })).json()) as { id: string };
    await pool.query('analyze');

    const real = await listen(app.fetch);
    const trivialApp = new Hono();
    trivialApp.get('/v1/scopes', (c) => c.json({ items: [] }));
    trivialApp.post('/v1/runtime-profiles', async (c) => c.json(await c.req.json(), 201));
    trivialApp.get('/v1/runtime-policies', (c) => c.json({ items: [] }));
    trivialApp.post('/v1/runtime-policies', async (c) => c.json(await c.req.json(), 201));
    const trivial = await listen(trivialApp.fetch);
    servers.push(real.server, trivial.server);
    const auth = { authorization: `Bearer ${created.apiKey}` };
    const profile = JSON.stringify({ name: 'profile-[<id>]', description: 'bench' });
    // A policy on the scope above, enabling two sections the agents enforce and one they do not (a gap per cluster).
    const policy = JSON.stringify({ name: 'policy-[<id>]', mode: 'enforce', scopeIds: [scope.id], capabilitiesBlock: { enabled: true, capabilities: ['SYS_ADMIN'] }, limitContainerPrivileges: { enabled: true, preset: 'baseline' }, volumesBlocked: { enabled: true, paths: ['/etc'] } });

    type Kind = 'list' | 'create' | 'policyCreate' | 'policyList';
    const kinds: Kind[] = ['list', 'create', 'policyCreate', 'policyList'];
    const results = Object.fromEntries(kinds.flatMap((k) => [[k, [] as number[]], [`trivial:${k}`, [] as number[]]])) as Record<string, number[]>;
    const per = Object.fromEntries(kinds.map((k) => [k, { statements: 0, transactions: 0, requests: 0 }])) as Record<Kind, { statements: number; transactions: number; requests: number }>;
    const measure = async (kind: Kind, run: () => Promise<Load>) => {
      const before = { ...counts };
      const r = await run();
      if (r.non2xx > 0 || r.errors > 0) throw new Error(`${kind}: ${r.non2xx} non-2xx answers, ${r.errors} errors`);
      per[kind].statements += counts.statements - before.statements;
      per[kind].transactions += counts.transactions - before.transactions;
      per[kind].requests += r.requests;
      return r.rps;
    };
    const requests: Record<Kind, [path: string, method: 'GET' | 'POST', body?: string]> = {
      list: ['/v1/scopes?limit=50', 'GET'],
      create: ['/v1/runtime-profiles', 'POST', profile],
      policyCreate: ['/v1/runtime-policies', 'POST', policy],
      policyList: ['/v1/runtime-policies?limit=50', 'GET'],
    };
    for (let round = 0; round < ROUNDS; round++) {
      for (const k of kinds) {
        const [path, method, body] = requests[k];
        results[`trivial:${k}`]!.push((await load(`${trivial.url}${path}`, method, auth, body)).rps);
        results[k]!.push(await measure(k, () => load(`${real.url}${path}`, method, auth, body)));
      }
    }
    const policies = Number((await pool.query('select count(*) from runtime_policies')).rows[0].count);
    const version = (await pool.query('show server_version')).rows[0].server_version as string;
    const row = (k: Kind) => `${fmt(median(results[k]!), 0)} req/s = ${fmt(median(results[k]!) / median(results[`trivial:${k}`]!), 3)}× the trivial app (${fmt(median(results[`trivial:${k}`]!), 0)} req/s)`;
    const statements = (k: Kind) => `${fmt(per[k].statements / per[k].requests, 2)} statements, ${fmt(per[k].transactions / per[k].requests, 2)} transactions per request (${per[k].requests} requests)`;
    report(`CRUD over HTTP, Postgres ${version}, ${CONNECTIONS} connections, ${ROUNDS} alternated rounds of ${SECONDS} s, medians`, [
      ['GET /v1/scopes?limit=50 (4,000 scopes)', row('list')],
      ['  database per request', statements('list')],
      ['POST /v1/runtime-profiles', row('create')],
      ['  database per request', statements('create')],
      [`POST /v1/runtime-policies (a scope reaching ${CLUSTERS} clusters with live agents; answers notEnforcedIn)`, row('policyCreate')],
      ['  database per request', statements('policyCreate')],
      [`GET /v1/runtime-policies?limit=50 (${policies} policies at the end)`, row('policyList')],
      ['  database per request', statements('policyList')],
    ]);
  } finally {
    for (const s of servers) s.close();
    await pool.end();
    await scratch.drop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchCrud();
