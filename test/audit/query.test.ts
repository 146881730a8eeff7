import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEventV1 } from '../../schema/audit-event.ts';
import { enrolledCluster } from '../support/agent.ts';
import { harness, keyWithRights, type TenantClient } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';
import { auditEvent, POLICY_ID, sendEvents } from './support.ts';

const database = await testPglite();
afterAll(() => database.close());
const h = harness(database);
let acme: TenantClient;
let globex: TenantClient;
let prod: Awaited<ReturnType<typeof enrolledCluster>>;
let dev: Awaited<ReturnType<typeof enrolledCluster>>;
const OTHER_POLICY = '0190f0a0-0000-7000-8000-000000000002';
const base = Date.parse('2026-03-10T12:00:00.000Z');
const at = (minutes: number) => new Date(base + minutes * 60_000);
const events: Array<AuditEventV1 & { cluster: 'prod' | 'dev' }> = [];

beforeAll(async () => {
  acme = await h.tenant('acme');
  globex = await h.tenant('globex');
  prod = await enrolledCluster(h, acme, 'prod');
  dev = await enrolledCluster(h, acme, 'dev');
  const noChecks = { checks: [], severity: 'low' as const, verdict: 'allowed' as const };
  const defs: Array<[number, 'prod' | 'dev', Partial<AuditEventV1>]> = [
    [0, 'prod', {}],
    [1, 'prod', { verdict: 'alerted', mode: 'audit', severity: 'critical', checks: [{ id: 'limitContainerPrivileges.privileged', message: 'privileged', severity: 'critical' }, { id: 'registriesAllowed', message: 'r', severity: 'low' }] }],
    [2, 'dev', { workload: { namespace: 'dev', kind: 'Pod', name: 'debug', image: 'busybox:latest' } }],
    [3, 'dev', { kind: 'process', policy: { id: OTHER_POLICY, name: 'runtime', revision: 1 }, ...noChecks }],
    [4, 'prod', { kind: 'agent', mode: undefined, policy: undefined, workload: undefined, ...noChecks }],
    [90, 'prod', { severity: 'medium', checks: [{ id: 'bestPracticeCheck.imageTagNotLatest', message: 'latest', severity: 'medium' }] }],
    [24 * 60, 'dev', {}],
  ];
  const batches: Record<'prod' | 'dev', AuditEventV1[]> = { prod: [], dev: [] };
  for (const [minutes, cluster, overrides] of defs) {
    const event = auditEvent(at(minutes), overrides);
    for (const k of Object.keys(event) as Array<keyof AuditEventV1>) if (event[k] === undefined) delete event[k];
    events.push({ ...event, cluster });
    batches[cluster].push(event);
  }
  expect((await sendEvents(h, prod.credential, batches.prod)).body).toEqual({ accepted: 4, duplicates: 0, rejected: [] });
  expect((await sendEvents(h, dev.credential, batches.dev)).body).toEqual({ accepted: 3, duplicates: 0, rejected: [] });
});

const ids = async (client: TenantClient, query: string) => {
  const res = await client.json('GET', `/v1/audit/events?${query}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.items.map((e: { id: string }) => e.id) as string[];
};
const expected = (pick: (e: (typeof events)[number]) => boolean) =>
  events
    .filter(pick)
    .sort((a, b) => b.time.localeCompare(a.time) || b.id.localeCompare(a.id))
    .map((e) => e.id);

describe('GET /v1/audit/events', () => {
  it('lists newest first and filters on every dimension', async () => {
    expect(await ids(acme, '')).toEqual(expected(() => true));
    const inRange = (e: AuditEventV1) => e.time >= at(1).toISOString() && e.time < at(90).toISOString();
    expect(await ids(acme, `from=${at(1).toISOString()}&to=${at(90).toISOString()}`)).toEqual(expected(inRange));
    expect(await ids(acme, `clusterId=${dev.clusterId}`)).toEqual(expected((e) => e.cluster === 'dev'));
    expect(await ids(acme, 'namespace=dev')).toEqual(expected((e) => e.workload?.namespace === 'dev'));
    expect(await ids(acme, `policyId=${OTHER_POLICY}`)).toEqual(expected((e) => e.policy?.id === OTHER_POLICY));
    expect(await ids(acme, 'check=registriesAllowed')).toEqual(expected((e) => e.checks.some((c) => c.id === 'registriesAllowed')));
    expect(await ids(acme, 'verdict=alerted,allowed')).toEqual(expected((e) => e.verdict !== 'blocked'));
    expect(await ids(acme, 'severity=critical')).toEqual(expected((e) => e.severity === 'critical'));
    expect(await ids(acme, 'minSeverity=medium')).toEqual(expected((e) => e.severity !== 'low'));
    expect(await ids(acme, 'kind=process,agent')).toEqual(expected((e) => e.kind === 'process' || e.kind === 'agent'));
    expect(await ids(acme, 'image=busybox:latest')).toEqual(expected((e) => e.workload?.image === 'busybox:latest'));
    expect(await ids(acme, `clusterId=${prod.clusterId}&verdict=blocked&policyId=${POLICY_ID}`)).toEqual(expected((e) => e.cluster === 'prod' && e.verdict === 'blocked'));
  });

  it('answers each event with its cluster and arrival time', async () => {
    const res = await acme.json('GET', `/v1/audit/events?clusterId=${dev.clusterId}&kind=process`);
    const sent = events.find((e) => e.kind === 'process')!;
    const { cluster: _cluster, ...event } = sent;
    expect(res.body.items).toEqual([{ ...event, clusterId: dev.clusterId, receivedAt: expect.stringMatching(/Z$/) }]);
  });

  it('pages with a cursor through events that share a time', async () => {
    const same = new Date(base - 2 * 24 * 3600_000);
    const tied = Array.from({ length: 7 }, () => auditEvent(same));
    await sendEvents(h, prod.credential, tied);
    const all = await ids(acme, 'limit=200');
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await acme.json('GET', `/v1/audit/events?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...res.body.items.map((e: { id: string }) => e.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all);
    expect(new Set(seen).size).toBe(all.length);
    for (const e of tied) expect(seen).toContain(e.id);
  });

  it('refuses bad parameters with one problem entry each', async () => {
    const res = await acme.json('GET', '/v1/audit/events?from=yesterday&clusterId=prod&verdict=blocked,maybe&minSeverity=extreme&color=red&limit=0&namespace=');
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { parameter: string }) => e.parameter).sort()).toEqual(['clusterId', 'color', 'from', 'minSeverity', 'namespace', 'verdict']);
    expect((await acme.json('GET', '/v1/audit/events?limit=0')).status).toBe(400);
    expect((await acme.json('GET', '/v1/audit/events?cursor=abc')).status).toBe(400);
    expect((await acme.json('GET', `/v1/audit/events?from=${at(5).toISOString()}&to=${at(1).toISOString()}`)).status).toBe(400);
  });

  it('needs audit.view, and shows another tenant nothing', async () => {
    const noAudit = h.as(acme, await keyWithRights(acme, ['clusters.view']));
    expect((await noAudit.json('GET', '/v1/audit/events')).status).toBe(403);
    expect((await noAudit.json('GET', '/v1/audit/summary')).status).toBe(403);
    const auditor = h.as(acme, await keyWithRights(acme, ['audit.view']));
    expect((await ids(auditor, '')).length).toBeGreaterThan(0);
    expect(await ids(globex, 'limit=200')).toEqual([]);
    expect(await ids(globex, `clusterId=${prod.clusterId}`)).toEqual([]);
    const summary = await globex.json('GET', `/v1/audit/summary?bucket=day&from=${at(-24 * 60).toISOString()}&to=${at(48 * 60).toISOString()}`);
    expect(summary.body).toMatchObject({ total: 0, groups: [], topWorkloads: [] });
    expect((await globex.json('GET', `/v1/clusters/${prod.clusterId}`)).status).toBe(404);
    expect((await h.app.request('/v1/audit/events', { headers: { authorization: `Bearer ${prod.credential}` } })).status).toBe(401);
  });
});

describe('GET /v1/audit/summary', () => {
  const range = `from=${at(0).toISOString()}&to=${at(48 * 60).toISOString()}`;

  it('counts events per group and hour, and ranks the offending workloads', async () => {
    const res = await acme.json('GET', `/v1/audit/summary?groupBy=cluster,verdict&bucket=hour&${range}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ bucket: 'hour', from: '2026-03-10T12:00:00.000Z', to: '2026-03-12T12:00:00.000Z', groupBy: ['cluster', 'verdict'], total: 7, groupCount: 5 });
    expect(res.body.groups[0]).toEqual({
      key: { cluster: prod.clusterId, verdict: 'blocked' },
      buckets: [
        { start: '2026-03-10T12:00:00.000Z', count: 1 },
        { start: '2026-03-10T13:00:00.000Z', count: 1 },
      ],
      total: 2,
    });
    expect(res.body.topWorkloads).toEqual([
      { workload: 'shop/Deployment/web', count: 4 },
      { workload: 'dev/Pod/debug', count: 1 },
    ]);
  });

  it('counts events, or check findings when grouped or filtered by check; null for none', async () => {
    const byPolicy = await acme.json('GET', `/v1/audit/summary?groupBy=policy&bucket=day&${range}`);
    expect(byPolicy.body.groups.map((g: { key: object; total: number }) => [g.key, g.total])).toEqual([
      [{ policy: POLICY_ID }, 5],
      [{ policy: null }, 1],
      [{ policy: OTHER_POLICY }, 1],
    ]);
    const byCheck = await acme.json('GET', `/v1/audit/summary?groupBy=check&bucket=day&${range}`);
    expect(byCheck.body.groups.map((g: { key: { check: string }; total: number }) => [g.key.check, g.total])).toEqual([
      ['registriesAllowed', 4],
      ['bestPracticeCheck.imageTagNotLatest', 1],
      ['limitContainerPrivileges.privileged', 1],
    ]);
    const filtered = await acme.json('GET', `/v1/audit/summary?bucket=day&check=registriesAllowed&minSeverity=high&${range}`);
    expect(filtered.body.groups).toEqual([{ key: {}, buckets: [{ start: '2026-03-10T00:00:00.000Z', count: 3 }, { start: '2026-03-11T00:00:00.000Z', count: 1 }], total: 4 }]);
    const limited = await acme.json('GET', `/v1/audit/summary?groupBy=kind&bucket=day&limit=1&top=1&${range}`);
    expect(limited.body).toMatchObject({ groupCount: 3, total: 7, groups: [{ key: { kind: 'admission' }, total: 5 }], topWorkloads: [{ workload: 'shop/Deployment/web', count: 4 }] });
  });

  it('refuses bad parameters', async () => {
    const res = await acme.json('GET', '/v1/audit/summary?groupBy=policy,colour&bucket=week&limit=0&top=500');
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { parameter: string }) => e.parameter)).toEqual(['bucket', 'groupBy', 'limit', 'top']);
    expect((await acme.json('GET', '/v1/audit/summary?groupBy=policy,policy')).status).toBe(400);
    expect((await acme.json('GET', '/v1/audit/summary?bucket=hour&from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z')).status).toBe(400);
    expect((await acme.json('GET', '/v1/audit/summary?bucket=day&from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z')).status).toBe(200);
  });
});

describe('GET/PUT /v1/settings/audit', () => {
  it('reads the 90-day default, saves a new retention, and needs audit.manage to change it', async () => {
    expect((await acme.json('GET', '/v1/settings/audit')).body).toEqual({ auditRetentionDays: 90, updatedAt: null });
    const saved = await acme.json('PUT', '/v1/settings/audit', { auditRetentionDays: 30 });
    expect(saved.status).toBe(200);
    expect(saved.body).toEqual({ auditRetentionDays: 30, updatedAt: expect.any(String) });
    expect((await acme.json('GET', '/v1/settings/audit')).body.auditRetentionDays).toBe(30);
    expect((await globex.json('GET', '/v1/settings/audit')).body.auditRetentionDays).toBe(90);
    expect((await acme.json('PUT', '/v1/settings/audit', { auditRetentionDays: 0 })).status).toBe(422);
    expect((await acme.json('PUT', '/v1/settings/audit', { auditRetentionDays: 30, extra: true })).status).toBe(422);
    const viewer = h.as(acme, await keyWithRights(acme, ['audit.view']));
    expect((await viewer.json('GET', '/v1/settings/audit')).status).toBe(200);
    expect((await viewer.json('PUT', '/v1/settings/audit', { auditRetentionDays: 10 })).status).toBe(403);
  });
});

describe('events carrying a whole decision (several policies, aggregated repeats) next to one-policy events', () => {
  it('filter by any policy a finding names, and count per finding group (times the aggregate count) in summaries', async () => {
    const initech = await h.tenant('initech');
    const cluster = await enrolledCluster(h, initech, 'prod');
    const check = (id: string, policy: string, mode: 'audit' | 'enforce', container?: string) => ({ id, message: 'm', severity: mode === 'enforce' ? ('high' as const) : ('low' as const), policy: { id: policy.toUpperCase(), name: 'p', revision: 1 }, mode, ...(container ? { container } : {}) });
    const decision = auditEvent(at(5), {
      policy: undefined, mode: 'enforce', verdict: 'blocked', severity: 'high', count: 3, firstSeen: at(1).toISOString(), lastSeen: at(5).toISOString(),
      checks: [check('registriesAllowed', POLICY_ID, 'enforce', 'app'), check('limitContainerPrivileges.privileged', POLICY_ID, 'enforce', 'app'), check('bestPracticeCheck.imageTagNotLatest', OTHER_POLICY, 'audit', 'side')],
      workload: { namespace: 'shop', kind: 'ReplicaSet', name: 'web' },
    });
    const single = auditEvent(at(6), { verdict: 'alerted', mode: 'audit', severity: 'low', policy: { id: OTHER_POLICY, name: 'hygiene', revision: 1 }, checks: [{ id: 'bestPracticeCheck.imageTagNotLatest', message: 'm', severity: 'low' }] });
    expect((await sendEvents(h, cluster.credential, [decision, single])).body).toEqual({ accepted: 2, duplicates: 0, rejected: [] });

    expect(await ids(initech, `policyId=${POLICY_ID}`)).toEqual([decision.id]);
    expect(await ids(initech, `policyId=${OTHER_POLICY}`)).toEqual([single.id, decision.id]);
    expect(await ids(initech, 'verdict=blocked')).toEqual([decision.id]);
    expect(await ids(initech, 'check=limitContainerPrivileges.privileged')).toEqual([decision.id]);
    const [stored] = (await initech.json('GET', `/v1/audit/events?policyId=${POLICY_ID}`)).body.items;
    expect(stored.checks[0].policy.id).toBe(POLICY_ID); // stored in lower case, as ids are answered
    expect(stored).toMatchObject({ count: 3, firstSeen: at(1).toISOString(), lastSeen: at(5).toISOString() });

    const range = `from=${at(0).toISOString()}&to=${at(60).toISOString()}`;
    const summary = (await initech.json('GET', `/v1/audit/summary?groupBy=policy,verdict&bucket=hour&${range}`)).body;
    const totals = Object.fromEntries(summary.groups.map((g: { key: { policy: string; verdict: string }; total: number }) => [`${g.key.policy} ${g.key.verdict}`, g.total]));
    expect(totals).toEqual({ [`${POLICY_ID} blocked`]: 3, [`${OTHER_POLICY} alerted`]: 4 });
    const byCheck = (await initech.json('GET', `/v1/audit/summary?groupBy=check&bucket=hour&${range}`)).body;
    expect(Object.fromEntries(byCheck.groups.map((g: { key: { check: string }; total: number }) => [g.key.check, g.total]))).toEqual({
      registriesAllowed: 3, 'limitContainerPrivileges.privileged': 3, 'bestPracticeCheck.imageTagNotLatest': 4,
    });
    const bySeverity = (await initech.json('GET', `/v1/audit/summary?groupBy=severity&bucket=hour&${range}&policyId=${POLICY_ID}`)).body;
    expect(bySeverity.groups.map((g: { key: { severity: string }; total: number }) => [g.key.severity, g.total])).toEqual([['high', 3]]);
  });

  it('refuses an aggregate whose firstSeen comes without lastSeen, or after it', async () => {
    const initech = await h.tenant('initech2');
    const cluster = await enrolledCluster(h, initech, 'prod');
    const lonely = auditEvent(at(5), { count: 2, firstSeen: at(1).toISOString() });
    const backwards = auditEvent(at(5), { count: 2, firstSeen: at(5).toISOString(), lastSeen: at(1).toISOString() });
    const res = await sendEvents(h, cluster.credential, [lonely, backwards]);
    expect(res.status).toBe(422);
    expect(res.body.rejected.map((r: { errors: Array<{ pointer: string }> }) => r.errors[0]!.pointer)).toEqual(['/lastSeen', '/firstSeen']);
  });
});
