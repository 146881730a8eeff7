import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { webhookDeliveries } from '../../schema/tables/index.ts';
import { inTenant } from '../../workers/db/db.ts';
import { startDispatchLoop } from '../../workers/webhooks/dispatch-loop.ts';
import { dispatchDue } from '../../workers/webhooks/dispatcher.ts';
import { enqueueDeliveries, matchesFilters } from '../../workers/webhooks/outbox.store.ts';
import { enrolledCluster } from '../support/agent.ts';
import { harness, type TenantClient } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';
import { event, POLICY_A, startReceiver, testClock, testDeps, verifyAsReceiver, type Receiver } from './support.ts';

const database = await testPglite();
const wake = vi.fn();
const h = harness(database, { config: { webhooks: { allowLoopback: true } }, wakeWebhookDispatcher: wake });
let acme: TenantClient;
let receiver: Receiver;

beforeAll(async () => {
  acme = await h.tenant('acme');
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver.close();
  await database.close();
});

const CLUSTER = '0190f0a0-0000-7000-8000-0000000000c1';
const OTHER = '0190f0a0-0000-7000-8000-0000000000c2';

describe('webhook filters', () => {
  it('match when every filter given matches (an absent or empty list matches all)', () => {
    const e = event({ kind: 'network', verdict: 'alerted', severity: 'medium' });
    expect(matchesFilters({}, CLUSTER, e)).toBe(true);
    expect(matchesFilters({ kinds: [], verdicts: [] }, CLUSTER, e)).toBe(true);
    expect(matchesFilters({ kinds: ['network', 'process'] }, CLUSTER, e)).toBe(true);
    expect(matchesFilters({ kinds: ['admission'] }, CLUSTER, e)).toBe(false);
    expect(matchesFilters({ verdicts: ['alerted'] }, CLUSTER, e)).toBe(true);
    expect(matchesFilters({ verdicts: ['blocked'] }, CLUSTER, e)).toBe(false);
    expect(matchesFilters({ minSeverity: 'low' }, CLUSTER, e)).toBe(true);
    expect(matchesFilters({ minSeverity: 'medium' }, CLUSTER, e)).toBe(true);
    expect(matchesFilters({ minSeverity: 'high' }, CLUSTER, e)).toBe(false);
    expect(matchesFilters({ policyIds: [POLICY_A] }, CLUSTER, e)).toBe(true);
    expect(matchesFilters({ policyIds: [OTHER] }, CLUSTER, e)).toBe(false);
    expect(matchesFilters({ policyIds: [POLICY_A] }, CLUSTER, event({ kind: 'agent', policy: undefined }))).toBe(false);
    expect(matchesFilters({ clusterIds: [CLUSTER] }, CLUSTER, e)).toBe(true);
    expect(matchesFilters({ clusterIds: [CLUSTER] }, OTHER, e)).toBe(false);
    expect(matchesFilters({ clusterIds: [CLUSTER] }, CLUSTER.toUpperCase(), e)).toBe(true);
    expect(matchesFilters({ kinds: ['network'], minSeverity: 'critical' }, CLUSTER, e)).toBe(false);
  });

  it('match a policy named by any finding of an event that carries a whole decision', () => {
    const check = (id: string, policy: string, mode: 'audit' | 'enforce') => ({ id, message: 'm', severity: 'high' as const, policy: { id: policy, name: 'p', revision: 1 }, mode });
    const decision = event({ policy: undefined, checks: [check('registriesAllowed', POLICY_A, 'enforce'), check('bestPracticeCheck.imageTagNotLatest', OTHER.toUpperCase(), 'audit')], severity: 'high', verdict: 'blocked' });
    expect(matchesFilters({ policyIds: [POLICY_A] }, CLUSTER, decision)).toBe(true);
    expect(matchesFilters({ policyIds: [OTHER] }, CLUSTER, decision)).toBe(true);
    expect(matchesFilters({ policyIds: [CLUSTER] }, CLUSTER, decision)).toBe(false);
    expect(matchesFilters({ verdicts: ['blocked'], minSeverity: 'high', policyIds: [OTHER] }, CLUSTER, decision)).toBe(true);
  });

  it('decide which endpoints get a delivery of each stored event', async () => {
    const cluster = (await acme.json('POST', '/v1/clusters', { name: 'filters' })).body.id as string;
    const policy = (await acme.json('POST', '/v1/scopes', { name: 'all', resources: [{ type: 'cluster', cluster: '*' }] })).body.id as string;
    const runtimePolicy = (await acme.json('POST', '/v1/runtime-policies', { name: 'p', mode: 'audit', scopeIds: [policy] })).body.id as string;
    const make = async (name: string, filters: object, enabled = true) => {
      const res = await acme.json('POST', '/v1/webhooks', { name, url: receiver.url, filters, enabled });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.webhook.id as string;
    };
    const hooks = {
      all: await make('f-all', {}),
      process: await make('f-process', { kinds: ['process'] }),
      blocked: await make('f-blocked', { verdicts: ['blocked'] }),
      critical: await make('f-critical', { minSeverity: 'critical' }),
      policy: await make('f-policy', { policyIds: [runtimePolicy] }),
      cluster: await make('f-cluster', { clusterIds: [cluster] }),
      combined: await make('f-combined', { kinds: ['admission'], verdicts: ['blocked'], minSeverity: 'high', clusterIds: [cluster] }),
      off: await make('f-off', {}, false),
    };
    const ref = { id: runtimePolicy, name: 'p', revision: 1 };
    const events = {
      admissionHigh: event({ kind: 'admission', verdict: 'blocked', severity: 'high' }),
      processCritical: event({ kind: 'process', verdict: 'alerted', severity: 'critical', policy: ref }),
      networkLow: event({ kind: 'network', verdict: 'allowed', severity: 'low', policy: undefined }),
    };
    const written = await inTenant(database.db, acme.id, (tx) => enqueueDeliveries(tx, acme.id, cluster, Object.values(events)));
    const rows = await inTenant(database.db, acme.id, (tx) => tx.select().from(webhookDeliveries));
    expect(rows).toHaveLength(written);
    const got = (hook: string) => rows.filter((r) => r.webhookId === hook).map((r) => (r.payload as any).data.event.id).sort();
    const ids = (...names: Array<keyof typeof events>) => names.map((n) => events[n].id).sort();
    expect(got(hooks.all)).toEqual(ids('admissionHigh', 'processCritical', 'networkLow'));
    expect(got(hooks.process)).toEqual(ids('processCritical'));
    expect(got(hooks.blocked)).toEqual(ids('admissionHigh'));
    expect(got(hooks.critical)).toEqual(ids('processCritical'));
    expect(got(hooks.policy)).toEqual(ids('processCritical'));
    expect(got(hooks.cluster)).toEqual(ids('admissionHigh', 'processCritical', 'networkLow'));
    expect(got(hooks.combined)).toEqual(ids('admissionHigh'));
    expect(got(hooks.off)).toEqual([]);
    expect(written).toBe(3 + 1 + 1 + 1 + 1 + 3 + 1);
    // From another cluster, the cluster filters let nothing through.
    const before = written;
    const more = await inTenant(database.db, acme.id, (tx) => enqueueDeliveries(tx, acme.id, OTHER, [events.admissionHigh]));
    expect(more).toBe(2); // all, blocked
    expect(before).toBe(11);
    // An outbox write rolls back with the transaction that carries it.
    await expect(
      inTenant(database.db, acme.id, async (tx) => {
        await enqueueDeliveries(tx, acme.id, cluster, [event()]);
        throw new Error('ingest failed');
      }),
    ).rejects.toThrow('ingest failed');
    expect(await inTenant(database.db, acme.id, (tx) => tx.select().from(webhookDeliveries))).toHaveLength(13);
    for (const id of Object.values(hooks)) await acme.request('DELETE', `/v1/webhooks/${id}`);
  });
});

describe('audit ingest → webhooks', () => {
  it('writes deliveries in the ingest transaction, wakes the dispatcher after it, and not for duplicates', async () => {
    const created = await acme.json('POST', '/v1/webhooks', { name: 'ingest', url: receiver.url, filters: { verdicts: ['blocked'] } });
    const { id } = created.body.webhook;
    const secret = created.body.secret as string;
    const agent = await enrolledCluster(h, acme, 'ingest');
    const events = [event(), event({ verdict: 'allowed', kind: 'process', severity: 'low', policy: undefined, mode: undefined })];
    wake.mockClear();
    const send = () =>
      h.app.request('/v1/agent/events', { method: 'POST', headers: { authorization: `Bearer ${agent.credential}`, 'content-type': 'application/json' }, body: JSON.stringify(events) });
    const res = await send();
    expect(res.status, await res.clone().text()).toBe(202);
    expect(wake).toHaveBeenCalledTimes(1);
    const deliveries = (await acme.json('GET', `/v1/webhooks/${id}/deliveries`)).body.items;
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0].payload).toEqual({ type: 'audit.event', timestamp: events[0]!.time, data: { clusterId: agent.clusterId, event: events[0] } });
    // The same batch again: duplicates are not stored, so nothing more is sent.
    wake.mockClear();
    expect((await send()).status).toBe(202);
    expect(wake).not.toHaveBeenCalled();
    expect((await acme.json('GET', `/v1/webhooks/${id}/deliveries`)).body.items).toHaveLength(1);
    receiver.received.length = 0;
    expect((await dispatchDue(database.db, testDeps(testClock(new Date(Date.now() + 1000))))).delivered).toBe(1);
    const mine = receiver.received.filter((r) => {
      try {
        return verifyAsReceiver(secret, r) !== undefined;
      } catch {
        return false;
      }
    });
    expect(mine).toHaveLength(1);
    expect(JSON.parse(mine[0]!.body).data.event.id).toBe(events[0]!.id);
  });

  it('wakes the dispatcher for test deliveries and manual retries', async () => {
    const created = await acme.json('POST', '/v1/webhooks', { name: 'wake', url: receiver.url });
    wake.mockClear();
    expect((await acme.json('POST', `/v1/webhooks/${created.body.webhook.id}/test`)).status).toBe(202);
    expect(wake).toHaveBeenCalledTimes(1);
  });
});

describe('the dispatch loop (Node)', () => {
  it('runs passes on its interval and at once when woken, and stops cleanly', async () => {
    let passes = 0;
    let release!: () => void;
    const blocker = new Promise<void>((r) => (release = r));
    const loop = startDispatchLoop(
      async () => {
        passes++;
        if (passes === 2) await blocker;
        return { attempted: 0, delivered: 0, more: false };
      },
      { intervalMs: 60_000 },
    );
    await vi.waitFor(() => expect(passes).toBe(1));
    loop.wake();
    await vi.waitFor(() => expect(passes).toBe(2));
    loop.wake(); // while a pass runs: another follows it
    const stopping = loop.stop();
    release();
    await stopping;
    await new Promise((r) => setTimeout(r, 50));
    expect(passes).toBe(2);
  });

  it('runs again at once while passes fill their batch, and survives a failing pass', async () => {
    let passes = 0;
    const errors: unknown[] = [];
    const loop = startDispatchLoop(
      async () => {
        passes++;
        if (passes === 3) throw new Error('database down');
        return { attempted: 50, delivered: 50, more: passes < 3 };
      },
      { intervalMs: 60_000, onError: (e) => errors.push(e) },
    );
    await vi.waitFor(() => expect(passes).toBe(3));
    expect(errors).toEqual([new Error('database down')]);
    loop.wake();
    await vi.waitFor(() => expect(passes).toBe(4));
    await loop.stop();
  });
});
