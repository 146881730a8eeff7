import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRetention } from '../../workers/audit/retention.ts';
import { enrolledCluster } from '../support/agent.ts';
import { harness, type Harness, type TenantClient } from '../support/harness.ts';
import { skipWithoutPostgres, testPostgres, type TestPostgres } from '../support/postgres.ts';
import { generateBatches, recountLines, recountSummary, rollupLines, summaryLines, type Query } from './recount.ts';
import { auditEvent, sendEvents } from './support.ts';

const DAY = 86_400_000;

describe.skipIf(skipWithoutPostgres('test/audit/postgres.test.ts'))('audit events on a real Postgres server through the Neon driver', () => {
  let pgdb: TestPostgres;
  let h: Harness;
  let q: Query;
  let acme: TenantClient;
  let agents: Array<Awaited<ReturnType<typeof enrolledCluster>>>;
  beforeAll(async () => {
    pgdb = await testPostgres();
    q = (text, params) => pgdb.admin.query(text, params);
    h = harness(pgdb.database);
    acme = await h.tenant('acme');
    agents = [await enrolledCluster(h, acme, 'prod'), await enrolledCluster(h, acme, 'dev')];
  });
  afterAll(() => pgdb?.close());

  it('ingests batches (JSON, NDJSON, gzip, duplicates) and keeps rollups equal to a recount, also under concurrency', async () => {
    const base = Math.floor(Date.now() / DAY) * DAY - 5 * DAY;
    const batches = generateBatches(20260728, { batches: 12, maxBatch: 80, clusters: agents.length }, base);
    // Two at a time, and the same batches again at once, so inserts of the same ids and rollup rows overlap.
    for (let i = 0; i < batches.length; i += 2) {
      const pair = batches.slice(i, i + 2);
      const results = await Promise.all(pair.map((b) => sendEvents(h, agents[b.cluster]!.credential, b.events, b)));
      for (const r of results) expect([202, 422]).toContain(r.status);
    }
    const again = await Promise.all(batches.map((b) => sendEvents(h, agents[b.cluster]!.credential, b.events, b)));
    for (const r of again) if (r.status === 202) expect(r.body.accepted).toBe(0);

    // A storm: six requests at once, each with a different shuffled, overlapping slice of the same new events.
    const fresh = Array.from({ length: 300 }, (_, i) => auditEvent(new Date(base + (i % 72) * 3600_000), { verdict: i % 3 ? 'blocked' : 'alerted' }));
    const slices = Array.from({ length: 6 }, (_, k) => fresh.slice(k * 30, k * 30 + 150).sort(() => Math.random() - 0.5));
    const storm = await Promise.all(slices.map((events, k) => sendEvents(h, agents[k % 2]!.credential, events, { gzip: k % 2 === 0 })));
    expect(storm.map((r) => r.status)).toEqual(Array(6).fill(202));
    expect(storm.reduce((n, r) => n + r.body.accepted, 0)).toBe(new Set(slices.flat().map((e) => e.id)).size);
    batches.push({ cluster: 0, format: 'json', gzip: false, events: slices.flat() });

    const ids = new Set(batches.flatMap((b) => b.events.filter((e) => (e as { verdict: string }).verdict !== 'unsure').map((e) => (e as { id: string }).id)));
    expect((await q('select count(*)::int as n from audit_events where tenant_id = $1', [acme.id])).rows[0].n).toBe(ids.size);
    expect(await rollupLines(q, acme.id)).toEqual(await recountLines(q, acme.id));
    const range = `from=${new Date(base).toISOString()}&to=${new Date(base + 4 * DAY).toISOString()}&limit=1000`;
    for (const [groupBy, bucket] of [[['cluster', 'check'], 'hour'], [['policy', 'verdict', 'workload'], 'day'], [[], 'hour']] as const) {
      const res = await acme.json('GET', `/v1/audit/summary?groupBy=${groupBy.join(',')}&bucket=${bucket}&${range}`);
      expect(res.status).toBe(200);
      expect(summaryLines(res.body)).toEqual(await recountSummary(q, acme.id, [...groupBy], bucket));
    }
  });

  it('lists with filters and cursors, and shows another tenant nothing', async () => {
    const all: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await acme.json('GET', `/v1/audit/events?limit=200&clusterId=${agents[0]!.clusterId}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      all.push(...res.body.items.map((e: { id: string }) => e.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    const { rows } = await q('select id from audit_events where tenant_id = $1 and cluster_id = $2 order by time desc, id desc', [acme.id, agents[0]!.clusterId]);
    expect(all).toEqual(rows.map((r: { id: string }) => r.id));
    const globex = await h.tenant('globex');
    expect((await globex.json('GET', '/v1/audit/events')).body.items).toEqual([]);
    expect((await globex.json('GET', '/v1/audit/summary?groupBy=cluster')).body.groups).toEqual([]);
  });

  it('stores awkward text exactly through the Neon driver', async () => {
    const odd = 'we"ird\\id,{x} \u00e9\u{1F600}';
    const event = auditEvent(new Date(), { checks: [{ id: odd, message: 'tab\there\nnew "line" \\', severity: 'high' }], workload: { namespace: 'n s', kind: 'Pod', name: "o'brien" } });
    expect((await sendEvents(h, agents[0]!.credential, [event], { format: 'ndjson', gzip: true })).body).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
    const found = await acme.json('GET', `/v1/audit/events?check=${encodeURIComponent(odd)}`);
    expect(found.body.items).toEqual([{ ...event, clusterId: agents[0]!.clusterId, receivedAt: expect.any(String) }]);
    expect((await q('select check_ids, image from audit_events where id = $1', [event.id])).rows).toEqual([{ check_ids: [odd], image: null }]);
  });

  it('runs retention as palisade_system: old raw events go, rollups stay', async () => {
    const tenant = await h.tenant('retained');
    const agent = await enrolledCluster(h, tenant, 'prod');
    expect((await tenant.json('PUT', '/v1/settings/audit', { auditRetentionDays: 10 })).status).toBe(200);
    const now = new Date();
    const events = [1, 9, 11, 100].map((age) => auditEvent(new Date(now.getTime() - age * DAY)));
    expect((await sendEvents(h, agent.credential, events)).body.accepted).toBe(4);
    const rollups = await rollupLines(q, tenant.id);
    const acmeBefore = (await q('select count(*)::int as n from audit_events where tenant_id = $1', [acme.id])).rows[0].n;
    const handle = pgdb.database.open();
    try {
      // acme keeps 90 days and its events are at most 8 days old; only the tenant with 10 days loses two.
      expect(await runRetention(handle.db, now)).toEqual({ deleted: 2 });
    } finally {
      await handle.close();
    }
    const left = await q('select id from audit_events where tenant_id = $1', [tenant.id]);
    expect(left.rows.map((r: { id: string }) => r.id).sort()).toEqual([events[0]!.id, events[1]!.id].sort());
    expect(await rollupLines(q, tenant.id)).toEqual(rollups);
    expect((await q('select count(*)::int as n from audit_events where tenant_id = $1', [acme.id])).rows[0].n).toBe(acmeBefore);
  });
});
