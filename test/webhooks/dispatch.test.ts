import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEventV1 } from '../../schema/audit-event.ts';
import { inTenant } from '../../workers/db/db.ts';
import { nextDueAt } from '../../workers/webhooks/dispatch.store.ts';
import { dispatchDue, type DispatchDeps } from '../../workers/webhooks/dispatcher.ts';
import { enqueueDeliveries } from '../../workers/webhooks/outbox.store.ts';
import { RETRY_DELAYS_MS } from '../../workers/webhooks/schedule.ts';
import { harness, type TenantClient } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';
import { event, startReceiver, testClock, testDeps, verifyAsReceiver, type Receiver } from './support.ts';

const database = await testPglite();
// The development setting the tests need: receivers on 127.0.0.1 over http.
const h = harness(database, { config: { webhooks: { allowLoopback: true } } });
let acme: TenantClient;
let globex: TenantClient;
let clusterId: string;
let receiver: Receiver;
const created: Array<[TenantClient, string]> = [];

beforeAll(async () => {
  acme = await h.tenant('acme');
  globex = await h.tenant('globex');
  clusterId = (await acme.json('POST', '/v1/clusters', { name: 'prod-eu' })).body.id;
  receiver = await startReceiver();
});
afterEach(async () => {
  // Each test's endpoints go (with their deliveries), so that the next test's passes see only its own.
  for (const [tenant, id] of created.splice(0)) await tenant.request('DELETE', `/v1/webhooks/${id}`);
  receiver.received.length = 0;
  receiver.respond = () => ({ status: 204 });
});
afterAll(async () => {
  await receiver.close();
  await database.close();
});

async function endpoint(tenant: TenantClient = acme, extra: Record<string, unknown> = {}, url = receiver.url) {
  const res = await tenant.json('POST', '/v1/webhooks', { name: `hook-${created.length}-${Math.random().toString(36).slice(2, 8)}`, url, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  created.push([tenant, res.body.webhook.id]);
  return { id: res.body.webhook.id as string, secret: res.body.secret as string };
}

const store = (events: AuditEventV1[], tenant: TenantClient = acme, cluster = clusterId) =>
  inTenant(database.db, tenant.id, (tx) => enqueueDeliveries(tx, tenant.id, cluster, events));

const log = async (webhookId: string, tenant: TenantClient = acme) => (await tenant.json('GET', `/v1/webhooks/${webhookId}/deliveries?limit=200`)).body.items as any[];

/** Runs passes until nothing more is due at the clock's time. */
async function drain(deps: DispatchDeps) {
  let attempted = 0;
  for (let r = await dispatchDue(database.db, deps); ; r = await dispatchDue(database.db, deps)) {
    attempted += r.attempted;
    if (!r.more) return attempted;
  }
}

/** Starts a second after now, so that what was just stored is due. */
const clockAfterNow = () => testClock(new Date(Date.now() + 1000));

describe('the dispatcher', () => {
  it('delivers signed audit events that standardwebhooks verifies, and logs them', async () => {
    const { id, secret } = await endpoint();
    const events = [event(), event({ kind: 'process', verdict: 'alerted', severity: 'medium' })];
    expect(await store(events)).toBe(2);
    const clock = clockAfterNow();
    expect(await drain(testDeps(clock))).toBe(2);
    expect(receiver.received).toHaveLength(2);
    const payloads = receiver.received.map((r) => verifyAsReceiver(secret, r) as any);
    expect(payloads.map((p) => p.data.event.id).sort()).toEqual(events.map((e) => e.id).sort());
    for (const p of payloads) expect(p).toMatchObject({ type: 'audit.event', data: { clusterId } });
    expect(payloads.find((p) => p.data.event.id === events[0]!.id)).toEqual({ type: 'audit.event', timestamp: events[0]!.time, data: { clusterId, event: events[0] } });
    for (const r of receiver.received) {
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['webhook-id']).toMatch(/^msg_[0-9a-f]{32}$/);
      expect(Number(r.headers['webhook-timestamp'])).toBe(Math.floor(clock.now().getTime() / 1000));
    }
    const deliveries = await log(id);
    expect(deliveries).toHaveLength(2);
    for (const d of deliveries) {
      expect(d).toMatchObject({ status: 'delivered', attempts: 1, lastStatusCode: 204, lastError: null, nextAttemptAt: null, deliveredAt: clock.now().toISOString() });
    }
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id']))).toEqual(new Set(deliveries.map((d) => d.id)));
    expect(await drain(testDeps(clock))).toBe(0);
  });

  it('receiver down, then up: every delivery arrives, and a webhook-id repeats only on retries', async () => {
    const { id, secret } = await endpoint();
    const events = Array.from({ length: 6 }, (_, i) => event({ workload: { namespace: 'shop', kind: 'Pod', name: `p${i}` } }));
    await store(events);
    const clock = clockAfterNow();
    let random = 0;
    const deps = testDeps(clock, { random: () => (random = (random + 0.37) % 1) }); // jitter varies

    await receiver.down();
    expect(await drain(deps)).toBe(6);
    for (const d of await log(id)) {
      expect(d).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: null, lastError: expect.stringMatching(/fetch failed|ECONNREFUSED/) });
      const wait = Date.parse(d.nextAttemptAt) - clock.now().getTime();
      expect(wait).toBeGreaterThanOrEqual(4500);
      expect(wait).toBeLessThanOrEqual(5500);
    }
    const earliest = Math.min(...(await log(id)).map((d) => Date.parse(d.nextAttemptAt)));
    expect((await nextDueAt(database.db))?.getTime()).toBe(earliest);
    clock.advance(4000);
    expect(await drain(deps)).toBe(0); // not due before the schedule says (5 s − 10 % at the earliest)

    // Up again, but at first it fails every other event (a 500 after reading it): those come again later.
    await receiver.up();
    const failOnce = new Set(events.filter((_, i) => i % 2 === 1).map((e) => e.id));
    receiver.respond = ({ body }) => {
      const eventId = JSON.parse(body).data.event.id as string;
      return failOnce.delete(eventId) ? { status: 500, body: 'try later' } : { status: 200 };
    };
    clock.advance(2000);
    expect(await drain(deps)).toBe(6);
    expect((await log(id)).filter((d) => d.status === 'pending')).toHaveLength(3);
    expect((await log(id)).find((d) => d.status === 'pending')).toMatchObject({ attempts: 2, lastStatusCode: 500, lastError: 'HTTP 500: try later' });
    clock.advance(RETRY_DELAYS_MS[1]! * 1.1);
    expect(await drain(deps)).toBe(3);

    const deliveries = await log(id);
    expect(deliveries.every((d) => d.status === 'delivered')).toBe(true);
    // Every event arrived, verified, and was acknowledged exactly once.
    const accepted = receiver.received.filter((r) => r.status === 200);
    expect(accepted.map((r) => (verifyAsReceiver(secret, r) as any).data.event.id).sort()).toEqual(events.map((e) => e.id).sort());
    // One id per event; an id comes twice only for the events that were retried after the receiver saw them.
    const byId = new Map<string, typeof receiver.received>();
    for (const r of receiver.received) byId.set(String(r.headers['webhook-id']), [...(byId.get(String(r.headers['webhook-id'])) ?? []), r]);
    expect(byId.size).toBe(6);
    for (const [webhookId, receipts] of byId) {
      const eventIds = new Set(receipts.map((r) => JSON.parse(r.body).data.event.id));
      expect(eventIds.size).toBe(1);
      const retried = [...eventIds].some((e) => events.findIndex((x) => x.id === e) % 2 === 1);
      expect(receipts.map((r) => r.status)).toEqual(retried ? [500, 200] : [200]);
      if (retried) expect(receipts[0]!.headers['webhook-timestamp']).not.toBe(receipts[1]!.headers['webhook-timestamp']);
      expect(deliveries.find((d) => d.id === webhookId).attempts).toBe(retried ? 3 : 2);
    }
  });

  it('fails a delivery after the last scheduled attempt, and sends it again by hand', async () => {
    const { id, secret } = await endpoint();
    await store([event()]);
    const clock = clockAfterNow();
    receiver.respond = () => ({ status: 500 });
    const attemptTimes: number[] = [];
    const deps = testDeps(clock, { random: () => 0.9 });
    for (let i = 0; i < 10; i++) {
      expect(await drain(deps), `attempt ${i + 1}`).toBe(1);
      attemptTimes.push(clock.now().getTime());
      const [d] = await log(id);
      if (i < 9) {
        expect(d).toMatchObject({ status: 'pending', attempts: i + 1 });
        const wait = Date.parse(d.nextAttemptAt) - clock.now().getTime();
        expect(wait).toBe(Math.round(RETRY_DELAYS_MS[i]! * 1.08)); // random 0.9 → +8 %
        clock.advance(wait);
      } else {
        expect(d).toMatchObject({ status: 'failed', attempts: 10, lastStatusCode: 500, nextAttemptAt: null });
      }
    }
    const total = attemptTimes.at(-1)! - attemptTimes[0]!;
    expect(total / 3600_000).toBeCloseTo((RETRY_DELAYS_MS.reduce((a, b) => a + b, 0) * 1.08) / 3600_000, 3);
    clock.advance(48 * 3600_000);
    expect(await drain(deps)).toBe(0);
    expect(receiver.received).toHaveLength(10);
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(1);

    // By hand: pending at once with a fresh schedule and the same webhook-id.
    const [failed] = await log(id);
    const retried = await acme.json('POST', `/v1/webhooks/${id}/deliveries/${failed.id}/retry`);
    expect(retried.status).toBe(202);
    expect(retried.body).toMatchObject({ id: failed.id, status: 'pending', attempts: 0 });
    receiver.respond = () => ({ status: 200 });
    clock.set(new Date(Date.now() + 1000));
    expect(await drain(deps)).toBe(1);
    expect(receiver.received.at(-1)!.headers['webhook-id']).toBe(failed.id);
    expect(verifyAsReceiver(secret, receiver.received.at(-1)!)).toMatchObject({ type: 'audit.event' });
    expect((await log(id))[0]).toMatchObject({ status: 'delivered', attempts: 1, lastStatusCode: 200 });
    expect((await acme.json('POST', `/v1/webhooks/${id}/deliveries/${failed.id}/retry`)).status).toBe(409);
  });

  it('disables the endpoint on 410 Gone and fails its pending deliveries', async () => {
    const { id } = await endpoint();
    await store([event(), event(), event()]);
    const clock = clockAfterNow();
    receiver.respond = () => ({ status: 410, body: 'gone for good' });
    expect((await dispatchDue(database.db, testDeps(clock, { batchSize: 1 }))).attempted).toBe(1);
    const deliveries = await log(id);
    expect(deliveries.map((d) => d.status)).toEqual(['failed', 'failed', 'failed']);
    expect(deliveries.filter((d) => d.lastStatusCode === 410)).toHaveLength(1);
    expect(deliveries.filter((d) => d.attempts === 0).every((d) => /410 Gone/.test(d.lastError))).toBe(true);
    const webhook = await acme.json('GET', `/v1/webhooks/${id}`);
    expect(webhook.body).toMatchObject({ enabled: false, disabledReason: expect.stringMatching(/410 Gone/) });
    expect(receiver.received).toHaveLength(1);
    // Nothing more is written for it or sent to it until it is turned on again.
    expect(await store([event()])).toBe(0);
    clock.advance(3600_000);
    expect(await drain(testDeps(clock))).toBe(0);
    // A failed delivery sent again by hand waits for the endpoint to be enabled.
    const retried = await acme.json('POST', `/v1/webhooks/${id}/deliveries/${deliveries[0].id}/retry`);
    expect(retried.status).toBe(202);
    expect(await drain(testDeps(clock))).toBe(0);
    const enabled = await acme.json('PATCH', `/v1/webhooks/${id}`, { enabled: true }, { 'if-match': webhook.headers.get('etag')! });
    expect(enabled.body).toMatchObject({ enabled: true, disabledReason: null });
    receiver.respond = () => ({ status: 202 });
    expect(await drain(testDeps(clock))).toBe(1);
    expect(await store([event()])).toBe(1);
  });

  it('honours Retry-After on 429 and 503, in seconds or as an HTTP date', async () => {
    const { id } = await endpoint();
    await store([event()]);
    const clock = clockAfterNow();
    const deps = testDeps(clock);
    receiver.respond = () => ({ status: 429, headers: { 'retry-after': '120' } });
    expect(await drain(deps)).toBe(1);
    let [d] = await log(id);
    expect(d).toMatchObject({ status: 'pending', lastStatusCode: 429 });
    expect(Date.parse(d.nextAttemptAt) - clock.now().getTime()).toBe(120_000); // not the schedule's 5 s
    clock.advance(60_000);
    expect(await drain(deps)).toBe(0);
    clock.advance(60_000);
    const later = new Date(clock.now().getTime() + 3 * 3600_000);
    receiver.respond = () => ({ status: 503, headers: { 'retry-after': later.toUTCString() } });
    expect(await drain(deps)).toBe(1);
    [d] = await log(id);
    expect(Date.parse(d.nextAttemptAt)).toBe(Math.floor(later.getTime() / 1000) * 1000);
    clock.set(later);
    // A Retry-After shorter than the schedule's next wait does not shorten it.
    receiver.respond = () => ({ status: 503, headers: { 'retry-after': '1' } });
    expect(await drain(deps)).toBe(1);
    [d] = await log(id);
    expect(Date.parse(d.nextAttemptAt) - clock.now().getTime()).toBe(RETRY_DELAYS_MS[2]);
    expect(receiver.received).toHaveLength(3);
  });

  it('signs with both secrets while a rotation overlaps, then with the new one only', async () => {
    const { id, secret: old } = await endpoint();
    const rotated = await acme.json('POST', `/v1/webhooks/${id}/rotate-secret`, { overlapSeconds: 3600 });
    const secret = rotated.body.secret as string;
    await store([event()]);
    const clock = clockAfterNow();
    expect(await drain(testDeps(clock))).toBe(1);
    const during = receiver.received[0]!;
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifyAsReceiver(secret, during)).toMatchObject({ type: 'audit.event' });
    expect(verifyAsReceiver(old, during)).toMatchObject({ type: 'audit.event' });

    await store([event()]);
    clock.advance(3600_000 + 1000);
    expect(await drain(testDeps(clock))).toBe(1);
    const after = receiver.received[1]!;
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(verifyAsReceiver(secret, after)).toMatchObject({ type: 'audit.event' });
    expect(() => verifyAsReceiver(old, after)).toThrow(/No matching signature/);
  });

  it('gives up on an attempt after the timeout, and does not follow redirects', async () => {
    const { id } = await endpoint();
    await store([event()]);
    const clock = clockAfterNow();
    receiver.respond = () => 'hang';
    const started = Date.now();
    expect(await drain(testDeps(clock, { timeoutMs: 300 }))).toBe(1);
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await log(id))[0]).toMatchObject({ status: 'pending', lastStatusCode: null, lastError: 'no answer within 0.3 s' });
    receiver.respond = () => ({ status: 307, headers: { location: 'http://127.0.0.1:1/elsewhere' } });
    clock.advance(10_000);
    expect(await drain(testDeps(clock))).toBe(1);
    expect((await log(id))[0]).toMatchObject({ status: 'pending', attempts: 2, lastStatusCode: 307 });
    expect(receiver.received).toHaveLength(2);
  });

  it('refuses, after resolution, names that lead to private, loopback or metadata addresses', async () => {
    const table: Record<string, string[]> = {
      'hooks.internal.example': ['10.0.0.5'],
      'meta.example': ['169.254.169.254'],
      'loop.example': ['127.0.0.1'],
      'v6.example': ['fd00:ec2::254'],
    };
    const ids = [];
    for (const host of Object.keys(table)) ids.push((await endpoint(acme, {}, `https://${host}/hook`)).id);
    await store([event()]);
    const clock = clockAfterNow();
    const calls: string[] = [];
    const deps = testDeps(clock, {
      allowLoopback: false,
      resolve: async (host) => table[host] ?? [],
      fetch: async (input) => {
        calls.push(String(input));
        return new Response(null, { status: 200 });
      },
    });
    expect(await drain(deps)).toBe(4);
    expect(calls).toEqual([]);
    const errors = await Promise.all(ids.map(async (id) => (await log(id))[0].lastError as string));
    expect(errors[0]).toMatch(/^not sent: the URL hooks\.internal\.example resolves to a private address \(10\.0\.0\.5\)/);
    expect(errors[1]).toMatch(/link-local or metadata address \(169\.254\.169\.254\)/);
    expect(errors[2]).toMatch(/loopback address/);
    expect(errors[3]).toMatch(/unique-local address/);
    // The same names resolving to public addresses are sent to.
    clock.advance(10_000);
    expect(await drain({ ...deps, resolve: async () => ['93.184.215.14'] })).toBe(4);
    expect(calls).toHaveLength(4);
  });

  it('sends across tenants in one pass, each with its own secret', async () => {
    const a = await endpoint(acme);
    const b = await endpoint(globex);
    const globexCluster = (await globex.json('POST', '/v1/clusters', { name: 'edge' })).body.id;
    await store([event()], acme);
    await store([event(), event()], globex, globexCluster);
    expect(await drain(testDeps(clockAfterNow()))).toBe(3);
    const bySecret = (secret: string) => receiver.received.filter((r) => {
      try {
        verifyAsReceiver(secret, r);
        return true;
      } catch {
        return false;
      }
    });
    expect(bySecret(a.secret)).toHaveLength(1);
    expect(bySecret(b.secret)).toHaveLength(2);
    expect(bySecret(b.secret).every((r) => JSON.parse(r.body).data.clusterId === globexCluster)).toBe(true);
    expect(await log(a.id)).toHaveLength(1);
    expect(await log(b.id, globex)).toHaveLength(2);
  });
});
