import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness, type TenantClient } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';

const database = await testPglite();
afterAll(() => database.close());
const h = harness(database);
let acme: TenantClient;

beforeAll(async () => {
  acme = await h.tenant('acme');
});

describe('scope cluster masks', () => {
  // With a backtracking matcher this mask against the name below runs for hours; the test timeout is the only clock.
  it('compile in linear time: a mask of many stars cannot stall the control plane', async () => {
    const scope = await acme.json('POST', '/v1/scopes', { name: 'stars', resources: [{ type: 'cluster', cluster: 'a*'.repeat(20) + 'b' }] });
    expect(scope.status).toBe(201);
    const policy = await acme.json('POST', '/v1/runtime-policies', { name: 'p', mode: 'audit', scopeIds: [scope.body.id], limitContainerPrivileges: { enabled: true, preset: 'baseline' } });
    expect(policy.status).toBe(201);
    const cluster = await acme.json('POST', '/v1/clusters', { name: 'a'.repeat(63) });
    expect(cluster.status).toBe(201);
    const bundle = await acme.json('GET', `/v1/clusters/${cluster.body.id}/bundle`);
    expect(bundle.status).toBe(200);
    expect(bundle.body.policies).toEqual([]);
  });

  it('still match as masks do', async () => {
    const scope = await acme.json('POST', '/v1/scopes', { name: 'prod', resources: [{ type: 'cluster', cluster: 'pr*d-*-e*' }] });
    await acme.json('POST', '/v1/runtime-policies', { name: 'prod', mode: 'audit', scopeIds: [scope.body.id], limitContainerPrivileges: { enabled: true, preset: 'baseline' } });
    for (const [name, matched] of [['prod-x-eu', true], ['pred-1-e', true], ['prod--e', true], ['prod-x-u', false], ['xprod-x-eu', false]] as const) {
      const cluster = await acme.json('POST', '/v1/clusters', { name });
      const bundle = await acme.json('GET', `/v1/clusters/${cluster.body.id}/bundle`);
      expect(bundle.body.policies.map((p: { name: string }) => p.name), name).toEqual(matched ? ['prod'] : []);
    }
  });
});

const cursor = (after: string) => btoa(JSON.stringify({ after })).replaceAll('=', '').replaceAll('+', '-').replaceAll('/', '_');

describe('forged or out-of-range query values are 400 problems, never 500', () => {
  it('a policy revisions cursor beyond any integer', async () => {
    const scope = await acme.json('POST', '/v1/scopes', { name: 'rev', resources: [{ type: 'cluster', cluster: 'rev-*' }] });
    const policy = await acme.json('POST', '/v1/runtime-policies', { name: 'rev', mode: 'audit', scopeIds: [scope.body.id] });
    const res = await acme.json('GET', `/v1/runtime-policies/${policy.body.id}/revisions?cursor=${cursor('99999999999999999999')}`);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });

  it('an audit events cursor holding a date that does not exist', async () => {
    const res = await acme.json('GET', `/v1/audit/events?cursor=${cursor('2026-13-45T99:99:99.000Z|0196a000-0000-7000-8000-000000000001')}`);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });

  it('audit time filters Postgres cannot hold', async () => {
    for (const from of ['0000-01-01T00:00:00Z']) {
      const events = await acme.json('GET', `/v1/audit/events?from=${encodeURIComponent(from)}`);
      expect(events.status, from).not.toBe(500);
    }
  });
});

describe('image scan times Postgres cannot hold as given', () => {
  const digest = 'sha256:' + 'ab'.repeat(32);
  it.each(['2026-05-01T00:00:00+23:59', '0000-06-01T00:00:00Z'])('lastScanAt %s is stored or refused, never a 500', async (lastScanAt) => {
    const res = await acme.json('POST', '/v1/images', { reference: `ghcr.io/acme/scan-${lastScanAt.length}-${lastScanAt[0]}`, digest, lastScanAt });
    expect([201, 422]).toContain(res.status);
  });
});

describe('audit summary ranges rounded to whole buckets', () => {
  it.each(['to=0001-01-01T00:00:00Z', 'to=9999-12-31T23:59:59Z', 'from=0001-01-01T00:30:00Z&to=0001-01-01T05:00:00Z'])('%s is a 400 problem or an answer, never a 500', async (range) => {
    const res = await acme.json('GET', `/v1/audit/summary?${range}`);
    expect([200, 400]).toContain(res.status);
  });
});
