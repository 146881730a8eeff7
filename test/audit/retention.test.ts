import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRetention } from '../../workers/audit/retention.ts';
import { startRetentionTimer } from '../../workers/node.ts';
import { enrolledCluster } from '../support/agent.ts';
import { harness, type TenantClient } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';
import { recountLines, rollupLines, type Query } from './recount.ts';
import { auditEvent, sendEvents } from './support.ts';

const database = await testPglite();
afterAll(() => database.close());
const h = harness(database);
const q: Query = (text, params) => database.client.query(text, params);
const DAY = 86_400_000;
const now = new Date();
const AGES = [1, 8, 30, 91, 400];
const tenants: Record<'week' | 'standard' | 'year', TenantClient> = {} as never;

beforeAll(async () => {
  for (const [name, days] of [['week', 7], ['standard', undefined], ['year', 365]] as const) {
    const tenant = (tenants[name] = await h.tenant(name));
    if (days) expect((await tenant.json('PUT', '/v1/settings/audit', { auditRetentionDays: days })).status).toBe(200);
    const agent = await enrolledCluster(h, tenant, 'prod');
    const events = AGES.map((age) => auditEvent(new Date(now.getTime() - age * DAY + 60_000)));
    expect((await sendEvents(h, agent.credential, events)).body.accepted).toBe(AGES.length);
  }
});

const remainingAges = async (tenant: TenantClient) => {
  const { rows } = await q(`select time from audit_events where tenant_id = $1 order by time desc`, [tenant.id]);
  return rows.map((r: { time: Date | string }) => Math.round((now.getTime() - new Date(r.time).getTime()) / DAY));
};

describe('runRetention', () => {
  it("deletes raw events past each tenant's retention and keeps every rollup", async () => {
    const rollupsBefore = Object.fromEntries(await Promise.all(Object.entries(tenants).map(async ([k, t]) => [k, await rollupLines(q, t.id)])));
    const summaryPath = `/v1/audit/summary?bucket=day&from=${new Date(now.getTime() - 395 * DAY).toISOString()}&to=${now.toISOString()}`;
    const summaryBefore = await tenants.week.json('GET', summaryPath);
    expect(await runRetention(database.db, now)).toEqual({ deleted: 4 + 2 + 1 });
    expect(await remainingAges(tenants.week)).toEqual([1]);
    expect(await remainingAges(tenants.standard)).toEqual([1, 8, 30]);
    expect(await remainingAges(tenants.year)).toEqual([1, 8, 30, 91]);
    for (const [k, t] of Object.entries(tenants)) expect(await rollupLines(q, t.id), k).toEqual(rollupsBefore[k]);
    // The rollups now count more than the raw events: summaries of the deleted period stay.
    expect(await rollupLines(q, tenants.week.id)).not.toEqual(await recountLines(q, tenants.week.id));
    expect((await tenants.week.json('GET', summaryPath)).body).toEqual(summaryBefore.body);
    expect(summaryBefore.body.total).toBe(4);
    expect((await tenants.week.json('GET', '/v1/audit/events')).body.items).toHaveLength(1);
    expect(await runRetention(database.db, now)).toEqual({ deleted: 0 });
  });

  it('follows a shortened retention on the next run, and runs from the Node timer', async () => {
    expect((await tenants.year.json('PUT', '/v1/settings/audit', { auditRetentionDays: 2 })).status).toBe(200);
    const stop = startRetentionTimer(database.db, 60_000, 10);
    try {
      await expect.poll(() => remainingAges(tenants.year), { timeout: 5000 }).toEqual([1]);
    } finally {
      stop();
    }
    expect(await remainingAges(tenants.standard)).toEqual([1, 8, 30]);
  });

  it('runs as palisade_system, to which the rollups are invisible', async () => {
    const asSystem = (statement: string) =>
      database.db.transaction(async (tx) => {
        await tx.execute(sql`select set_config('role', 'palisade_system', true)`);
        return ((await tx.execute(sql.raw(statement))) as unknown as { rows: Array<{ n: number }> }).rows[0]!.n;
      });
    expect(await asSystem('select count(*)::int as n from audit_events')).toBeGreaterThan(0);
    expect(await asSystem('select count(*)::int as n from audit_rollups')).toBe(0);
    expect((await q('select count(*)::int as n from audit_rollups', [])).rows[0].n).toBeGreaterThan(0);
  });
});
