import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEventV1 } from '../../schema/audit-event.ts';
import { inTenant } from '../../workers/db/db.ts';
import { startDispatchLoop } from '../../workers/webhooks/dispatch-loop.ts';
import { dispatchDue } from '../../workers/webhooks/dispatcher.ts';
import { enqueueDeliveries } from '../../workers/webhooks/outbox.store.ts';
import { MAX_WEBHOOKS_PER_TENANT } from '../../workers/webhooks/webhook-kind.ts';
import { harness, type TenantClient } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';
import { expectProblem } from '../support/resource-checks.ts';
import { event, startReceiver, testClock, testDeps, type Receiver } from './support.ts';

const database = await testPglite();
const h = harness(database, { config: { webhooks: { allowLoopback: true } } });
let slowTenant: TenantClient;
let fastTenant: TenantClient;
let slow: Receiver;
let fast: Receiver;
const clusters = new Map<string, string>();

beforeAll(async () => {
  slowTenant = await h.tenant('slow');
  fastTenant = await h.tenant('fast');
  for (const t of [slowTenant, fastTenant]) clusters.set(t.id, (await t.json('POST', '/v1/clusters', { name: 'c' })).body.id);
  slow = await startReceiver(() => 'hang');
  fast = await startReceiver();
  for (const [t, r] of [[slowTenant, slow], [fastTenant, fast]] as const) {
    const res = await t.json('POST', '/v1/webhooks', { name: 'siem', url: r.url });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
});
afterAll(async () => {
  await slow.close();
  await fast.close();
  await database.close();
});

const store = (tenant: TenantClient, events: AuditEventV1[]) => inTenant(database.db, tenant.id, (tx) => enqueueDeliveries(tx, tenant.id, clusters.get(tenant.id)!, events));

async function until(condition: () => boolean, what: string, ms = 20_000): Promise<void> {
  for (const end = Date.now() + ms; !condition(); await new Promise((r) => setTimeout(r, 25))) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
}

/** Lets every hanging request of the slow receiver go and answers the rest at once (all retried later): the pass ends. */
async function releaseSlow() {
  slow.respond = () => ({ status: 500 });
  await slow.down();
  await slow.up();
}

describe('fair dispatch across tenants and endpoints', () => {
  it("delivers a fast tenant's event while a slow tenant's older backlog hangs, in one pass", async () => {
    const t0 = Date.now();
    await store(slowTenant, Array.from({ length: 80 }, (_, i) => event({}, new Date(t0 - 60_000 + i))));
    await store(fastTenant, [event({}, new Date(t0))]);
    const clock = testClock(new Date(Date.now() + 1000));
    // The attempt timeout is long: the fast delivery must not depend on the slow ones giving up.
    const pass = dispatchDue(database.db, testDeps(clock, { timeoutMs: 60_000 }));
    await until(() => fast.received.length === 1, 'the fast delivery');
    // It arrived while the slow receiver still held its requests, and those were few: caps per endpoint and tenant.
    expect(slow.received.length).toBeGreaterThan(0);
    expect(slow.received.every((r) => r.status === 0)).toBe(true);
    expect(slow.received.length).toBeLessThanOrEqual(4);
    await releaseSlow();
    const result = await pass;
    expect(result.attempted).toBeGreaterThanOrEqual(2);
  });

  it('claims a delivery stored while a pass is busy with a slow receiver, without waiting for it (Node loop)', async () => {
    fast.received.length = 0;
    slow.received.length = 0;
    slow.respond = () => 'hang';
    const clock = testClock(new Date(Date.now() + 10 * 60_000)); // past the retries the previous test scheduled
    const loop = startDispatchLoop(() => dispatchDue(database.db, testDeps(clock, { timeoutMs: 60_000 })), { intervalMs: 60_000 });
    try {
      await until(() => slow.received.length > 0, 'the slow attempts');
      await store(fastTenant, [event()]);
      loop.wake();
      await until(() => fast.received.length === 1, 'the fast delivery');
      expect(slow.received.every((r) => r.status === 0)).toBe(true);
    } finally {
      await releaseSlow();
      await loop.stop();
    }
  });
});

describe('webhooks per tenant', () => {
  it(`refuses more than ${MAX_WEBHOOKS_PER_TENANT} endpoints with problem+json`, async () => {
    const t = await h.tenant('many');
    const existing = (await t.json('GET', '/v1/webhooks?limit=200')).body.items.length;
    for (let i = existing; i < MAX_WEBHOOKS_PER_TENANT; i++) {
      expect((await t.json('POST', '/v1/webhooks', { name: `w${i}`, url: fast.url })).status).toBe(201);
    }
    const over = await t.json('POST', '/v1/webhooks', { name: 'one-too-many', url: fast.url });
    expectProblem(over, 409);
    expect(over.body.detail).toMatch(new RegExp(`at most ${MAX_WEBHOOKS_PER_TENANT}`));
    expect((await t.json('GET', '/v1/webhooks?limit=200')).body.items).toHaveLength(MAX_WEBHOOKS_PER_TENANT);
  });
});
