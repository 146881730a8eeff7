import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { AuditEventV1, Severity } from '../schema/audit-event.ts';
import { createApp } from '../workers/app.ts';
import { eventsInsert, ingestEvents, rollupUpsert } from '../workers/audit/audit-ingest.store.ts';
import { checkIdsOf, rollupIncrements } from '../workers/audit/audit-rollup.ts';
import { generateSigningKey } from '../workers/bundles/signing-keys.ts';
import { inTenant, type Db } from '../workers/db/db.ts';
import { uuidv7 } from '../workers/ids.ts';
import { MIGRATIONS_DIR } from '../workers/node.ts';
import { fmt, median, report } from './stats.ts';
import { scratchDatabase } from './scratch-db.ts';

const RUNS = 7;
const BATCHES = 20;
const BATCH = 500;
const N = BATCHES * BATCH;
const COLUMNS = ['tenant_id', 'id', 'cluster_id', 'time', 'received_at', 'kind', 'verdict', 'mode', 'severity', 'policy_id', 'check_ids', 'namespace', 'image', 'event'];

/** Realistic batches: a few clusters' worth of workloads, policies and checks, spread over the last day. */
function makeEvents(count: number, seed: number): AuditEventV1[] {
  const checks = ['registriesAllowed', 'limitContainerPrivileges.privileged', 'bestPracticeCheck.imageTagNotLatest', 'bestPracticeCheck.memoryLimitsSet', 'capabilitiesBlock'];
  const severities: Severity[] = ['low', 'medium', 'high', 'critical'];
  const policies = Array.from({ length: 8 }, (_, i) => `0190f0a0-0000-7000-8000-${String(i).padStart(12, '0')}`);
  const now = Date.now();
  return Array.from({ length: count }, (_, i) => {
    const k = (i * 7919 + seed) >>> 0;
    const time = now - (k % 86_400_000);
    const own = [checks[k % 5]!, ...(k % 3 === 0 ? [checks[(k >> 3) % 5]!] : [])].map((id, j) => ({ id, message: `${id} failed for container app-${j}`, severity: severities[(k >> j) % 4]! }));
    const severity = own.reduce<Severity>((a, c) => (severities.indexOf(c.severity) > severities.indexOf(a) ? c.severity : a), 'low');
    return {
      id: uuidv7(time),
      time: new Date(time).toISOString(),
      kind: 'admission',
      verdict: k % 4 === 0 ? 'alerted' : 'blocked',
      mode: k % 4 === 0 ? 'audit' : 'enforce',
      policy: { id: policies[k % 8]!, name: `policy-${k % 8}`, revision: 3 },
      bundleRevision: 42,
      checks: own,
      workload: { namespace: `team-${k % 20}`, kind: 'Deployment', name: `svc-${k % 200}`, container: 'app', image: `registry.example.com/team-${k % 20}/svc-${k % 200}:1.${k % 10}` },
      severity,
    };
  });
}

/** COPY text format: tab-separated, `\N` for null, backslash, tab and newlines escaped. */
const copyText = (v: string | null) => (v === null ? '\\N' : v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r'));
const arrayLiteral = (items: string[]) => `{${items.map((s) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}`;

function copyPayload(tenantId: string, clusterId: string, receivedAt: string, events: AuditEventV1[]): string {
  return events
    .map((e) =>
      [tenantId, e.id, clusterId, e.time, receivedAt, e.kind, e.verdict, e.mode ?? null, e.severity, e.policy?.id ?? null, arrayLiteral(checkIdsOf(e)), e.workload?.namespace ?? null, e.workload?.image ?? null, JSON.stringify(e)]
        .map(copyText)
        .join('\t'),
    )
    .join('\n') + '\n';
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/**
 * Audit ingest into a real Postgres server (PALISADE_TEST_PG_URL or DATABASE_URL; a scratch database is created and
 * dropped): events per second through the ingest store (batches of 500: multi-row INSERT ... ON CONFLICT DO NOTHING,
 * rollup upserts, one transaction each as the RLS-bound app role), measured in the same runs as a plain COPY of the
 * same rows into an identical table, the ceiling; and each half of the store's work alone (the events insert, the
 * rollup upsert of the same batches), which shows the floor the two together can reach.
 */
export async function benchAudit(): Promise<void> {
  const scratch = await scratchDatabase('Audit ingest');
  if (!scratch) return;
  const pool = new pg.Pool({ connectionString: scratch.url, max: 4 });
  try {
    const db = drizzle(pool) as unknown as Db;
    await migrate(drizzle(pool), { migrationsFolder: MIGRATIONS_DIR });
    await pool.query('CREATE TABLE audit_events_copy (LIKE audit_events INCLUDING ALL)');
    const version = (await pool.query('show server_version')).rows[0].server_version as string;

    // An app over the same database, for the HTTP route: a tenant and an enrolled cluster, no rate limit in the way.
    const operatorKey = 'bench-operator';
    const app = createApp({
      database: { open: () => ({ db, close: async () => {} }) },
      config: { operatorKey, maxBodyBytes: 8 * 1024 * 1024, audit: { maxBatchBytes: 8 * 1024 * 1024, rateLimit: { eventsPerSecond: 1e9, burst: 1e9 } } },
      signing: { issuer: 'https://bench', keys: { current: (await generateSigningKey()).key, previous: [] } },
    });
    const call = async (method: string, path: string, key: string, body?: unknown) =>
      (await app.request(path, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })).json() as Promise<any>;
    const created = await call('POST', '/v1/tenants', operatorKey, { name: 'bench' });
    const tenantId: string = created.tenant.id;
    const cluster = await call('POST', '/v1/clusters', created.apiKey, { name: 'bench' });
    const token = await call('POST', `/v1/clusters/${cluster.id}/enrollment-tokens`, created.apiKey, {});
    const { credential } = (await (await app.request('/v1/agent/enroll', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: token.token }) })).json()) as { credential: string };
    const clusterId: string = cluster.id;

    const reset = () => pool.query('TRUNCATE audit_events, audit_rollups, audit_events_copy');
    const results = { store: [] as number[], http: [] as number[], copy: [] as number[], copyBatches: [] as number[], eventsAlone: [] as number[], rollupsAlone: [] as number[] };
    let rollupRows = 0;
    for (let run = 0; run < RUNS; run++) {
      const events = makeEvents(N, run * 1_000_003);
      const batches = Array.from({ length: BATCHES }, (_, b) => events.slice(b * BATCH, (b + 1) * BATCH));
      const receivedAt = new Date().toISOString();
      await reset();
      results.copy.push(await timed(async () => {
        const client = await pool.connect();
        try {
          await pipeline(Readable.from([copyPayload(tenantId, clusterId, receivedAt, events)]), client.query(copyFrom(`COPY audit_events_copy (${COLUMNS.join(', ')}) FROM STDIN`)));
        } finally {
          client.release();
        }
      }));
      await reset();
      results.copyBatches.push(await timed(async () => {
        const client = await pool.connect();
        try {
          for (const batch of batches) await pipeline(Readable.from([copyPayload(tenantId, clusterId, receivedAt, batch)]), client.query(copyFrom(`COPY audit_events_copy (${COLUMNS.join(', ')}) FROM STDIN`)));
        } finally {
          client.release();
        }
      }));
      await reset();
      results.store.push(await timed(async () => {
        for (const batch of batches) await inTenant(db, tenantId, (tx) => ingestEvents(tx, { tenantId, clusterId, receivedAt, events: batch }));
      }));
      rollupRows = Number((await pool.query('select count(*) from audit_rollups')).rows[0].count);
      // Where the floor is: each half of the store's statement alone (same SQL, same transactions), beside the COPY.
      const sorted = batches.map((batch) => [...batch].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
      await reset();
      results.eventsAlone.push(await timed(async () => {
        for (const batch of sorted) await inTenant(db, tenantId, (tx) => tx.execute(eventsInsert({ tenantId, clusterId, receivedAt }, batch)));
      }));
      await reset();
      results.rollupsAlone.push(await timed(async () => {
        for (const batch of sorted) await inTenant(db, tenantId, (tx) => tx.execute(rollupUpsert(tenantId, clusterId, rollupIncrements(tenantId, clusterId, batch))));
      }));
      await reset();
      const bodies = batches.map((batch) => gzipSync(JSON.stringify(batch)));
      results.http.push(await timed(async () => {
        for (const body of bodies) {
          const res = await app.request('/v1/agent/events', { method: 'POST', headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: new Uint8Array(body) });
          if (res.status !== 202) throw new Error(`ingest: ${res.status} ${await res.text()}`);
        }
      }));
    }
    const rate = (ms: number[]) => N / (median(ms) / 1000);
    const ceiling = rate(results.copy);
    const row = (ms: number[]) => `${fmt(rate(ms), 0)} events/s (${fmt(median(ms), 0)} ms) = ${fmt((rate(ms) / ceiling) * 100, 1)}% of COPY`;
    report(`Audit ingest into Postgres ${version}: ${BATCHES} batches of ${BATCH} (${N} events), median of ${RUNS} runs`, [
      ['ceiling: one COPY of all rows', `${fmt(ceiling, 0)} events/s (${fmt(median(results.copy), 0)} ms)`],
      ['COPY, one per batch of 500', row(results.copyBatches)],
      ['ingest store (events + rollups, one tx a batch)', row(results.store)],
      ['POST /v1/agent/events in-process (gzip JSON, validation)', row(results.http)],
      ['  of it, the events insert alone (no rollups)', row(results.eventsAlone)],
      ['  of it, the rollup upsert alone (no events)', row(results.rollupsAlone)],
      ['ratio ingest store / COPY (of the medians)', fmt(rate(results.store) / ceiling, 3)],
      ['ratio ingest store / COPY (median of per-run ratios)', fmt(median(results.store.map((ms, i) => results.copy[i]! / ms)), 3)],
      ['rollup rows written per run', `${rollupRows} (${fmt(rollupRows / N, 2)} per event)`],
    ]);
  } finally {
    await pool.end();
    await scratch.drop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchAudit();
