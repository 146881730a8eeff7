import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { enrolledCluster } from '../support/agent.ts';
import { harness } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';
import { loadedMachineRuns, PROPERTY_TEST_TIMEOUT } from '../support/property.ts';
import { generateBatches, recountLines, recountSummary, rollupLines, summaryLines, type Query } from './recount.ts';
import { auditEvent, sendEvents } from './support.ts';

const database = await testPglite();
afterAll(() => database.close());
const h = harness(database);
const q: Query = (text, params) => database.client.query(text, params);
const DAY = 86_400_000;
const base = Math.floor(Date.now() / DAY) * DAY - 5 * DAY;

const GROUPINGS: Array<[string[], 'hour' | 'day']> = [
  [[], 'day'],
  [['policy'], 'hour'],
  [['check'], 'day'],
  [['cluster', 'check', 'verdict'], 'hour'],
  [['namespace', 'severity', 'image'], 'day'],
  [['kind', 'workload'], 'hour'],
];

let run = 0;

describe('audit rollups', () => {
  it('equal a recount of the raw events (finding groups of old- and new-grain events, aggregate counts) after random batches with duplicates, several checks and invalid events', { timeout: PROPERTY_TEST_TIMEOUT }, async () => {
    const runs = loadedMachineRuns(15);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 30 }), runs.counted(async (seed: number, batches: number, maxBatch: number) => {
        const tenant = await h.tenant(`t${run++}`);
        const agents = [await enrolledCluster(h, tenant, 'a'), await enrolledCluster(h, tenant, 'b')];
        const valid = new Set<string>();
        let accepted = 0;
        for (const batch of generateBatches(seed, { batches, maxBatch, clusters: agents.length }, base)) {
          const res = await sendEvents(h, agents[batch.cluster]!.credential, batch.events, batch);
          const invalid = batch.events.filter((e) => (e as { verdict: string }).verdict === 'unsure').length;
          if (invalid === batch.events.length) {
            expect(res.status).toBe(422);
            continue;
          }
          expect(res.status).toBe(202);
          expect(res.body.rejected).toHaveLength(invalid);
          expect(res.body.accepted + res.body.duplicates).toBe(batch.events.length - invalid);
          accepted += res.body.accepted;
          for (const e of batch.events) if ((e as { verdict: string }).verdict !== 'unsure') valid.add((e as { id: string }).id);
        }
        expect(accepted).toBe(valid.size);

        expect(await rollupLines(q, tenant.id)).toEqual(await recountLines(q, tenant.id));
        const range = `from=${new Date(base).toISOString()}&to=${new Date(base + 4 * DAY).toISOString()}&limit=1000`;
        for (const [groupBy, bucket] of GROUPINGS) {
          const res = await tenant.json('GET', `/v1/audit/summary?groupBy=${groupBy.join(',')}&bucket=${bucket}&${range}`);
          expect(res.status).toBe(200);
          expect(summaryLines(res.body), `${groupBy} by ${bucket}`).toEqual(await recountSummary(q, tenant.id, groupBy, bucket));
        }
      })),
      runs.parameters,
    );
    runs.expectRuns(5);
  });

  it('after batched ingest equal those of the same events ingested one by one (batches sum their increments in memory before one upsert)', { timeout: PROPERTY_TEST_TIMEOUT }, async () => {
    const runs = loadedMachineRuns(10);
    // Few tuples (two hours, two workloads, two severities), so that rows collide within batches and across them.
    const event = fc.record({
      hour: fc.integer({ min: 0, max: 1 }),
      workload: fc.constantFrom('web', 'db'),
      severity: fc.constantFrom('high', 'low'),
      checks: fc.subarray(['registriesAllowed', 'capabilitiesBlock', 'bestPracticeCheck.imageTagNotLatest']),
      count: fc.option(fc.integer({ min: 2, max: 5 }), { nil: undefined }),
      cluster: fc.integer({ min: 0, max: 1 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(event, { minLength: 1, maxLength: 40 }), fc.array(fc.integer({ min: 1, max: 15 }), { minLength: 1, maxLength: 6 }), runs.counted(async (drawn, sizes) => {
        const batched = await h.tenant(`batched${run}`);
        const single = await h.tenant(`single${run++}`);
        const agents = { batched: [await enrolledCluster(h, batched, 'a'), await enrolledCluster(h, batched, 'b')], single: [await enrolledCluster(h, single, 'a'), await enrolledCluster(h, single, 'b')] };
        const events = drawn.map((d, i) => ({
          cluster: d.cluster,
          event: auditEvent(new Date(base + d.hour * 3_600_000 + i * 1000), {
            severity: d.severity as 'high' | 'low',
            checks: d.checks.map((id) => ({ id, message: 'm', severity: d.severity as 'high' | 'low' })),
            workload: { namespace: 'shop', kind: 'Deployment', name: d.workload, container: 'app', image: 'nginx:1' },
            ...(d.count ? { count: d.count, firstSeen: new Date(base + d.hour * 3_600_000).toISOString(), lastSeen: new Date(base + d.hour * 3_600_000 + i * 1000).toISOString() } : {}),
          }),
        }));
        // Batches per cluster, cut at the drawn sizes; then every event alone.
        for (const cluster of [0, 1]) {
          const mine = events.filter((e) => e.cluster === cluster).map((e) => e.event);
          for (let at = 0, i = 0; at < mine.length; at += sizes[i++ % sizes.length]!) {
            expect((await sendEvents(h, agents.batched[cluster]!.credential, mine.slice(at, at + sizes[i % sizes.length]!))).status).toBe(202);
          }
          for (const e of mine) expect((await sendEvents(h, agents.single[cluster]!.credential, [e])).status).toBe(202);
        }
        // The same lines once each tenant's clusters are named by their position.
        const named = async (tenantId: string, clusters: Array<{ clusterId: string }>) =>
          (await rollupLines(q, tenantId)).map((line) => clusters.reduce((l, c, i) => l.replaceAll(c.clusterId, `cluster-${i}`), line)).sort();
        const lines = await named(batched.id, agents.batched);
        expect(lines.length).toBeGreaterThan(0);
        expect(lines).toEqual(await named(single.id, agents.single));
      })),
      runs.parameters,
    );
    runs.expectRuns(3);
  });
});
