import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { enrolledCluster } from '../support/agent.ts';
import { harness } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';
import { loadedMachineRuns, PROPERTY_TEST_TIMEOUT } from '../support/property.ts';
import { generateBatches, recountLines, recountSummary, rollupLines, summaryLines, type Query } from './recount.ts';
import { sendEvents } from './support.ts';

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
});
