import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleContentV1 } from '../../schema/bundle.ts';
import { contentDigest } from '../../schema/canonical-json.ts';
import { agentRequest, enrolledCluster } from '../support/agent.ts';
import { harness, TEST_ISSUER, type TenantClient } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';

const database = await testPglite();
afterAll(() => database.close());
const h = harness(database);
let acme: TenantClient;
let globex: TenantClient;
let agent: Awaited<ReturnType<typeof enrolledCluster>>;
let scopeId: string;

beforeAll(async () => {
  acme = await h.tenant('acme');
  globex = await h.tenant('globex');
  agent = await enrolledCluster(h, acme, 'prod-eu');
  scopeId = (await acme.json('POST', '/v1/scopes', { name: 'prod', resources: [{ type: 'cluster', cluster: 'prod-*' }] })).body.id;
  await acme.json('POST', '/v1/runtime-policies', { name: 'baseline', mode: 'enforce', scopeIds: [scopeId], limitContainerPrivileges: { enabled: true, preset: 'baseline' } });
});

const pull = (headers: Record<string, string> = {}, query = '') => agentRequest(h, agent.credential, `/v1/agent/bundle${query}`, { headers });

describe('GET /v1/agent/bundle', () => {
  it('serves a signed bundle that verifies against the enrollment trust anchor', async () => {
    const res = await pull();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/jose');
    const { payload, protectedHeader } = await jwtVerify(await res.text(), createLocalJWKSet(agent.jwks as never), { issuer: TEST_ISSUER, audience: agent.clusterId });
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', typ: 'palisade-bundle+jwt' });
    expect(payload.tid).toBe(acme.id);
    expect((payload.exp as number) - (payload.iat as number)).toBe(24 * 3600);
    const content = BundleContentV1.parse(payload.bundle);
    expect(payload.dig).toBe(await contentDigest(content));
    expect(content.policies.map((p) => p.name)).toEqual(['baseline']);
    expect(content.policies[0]!.scopes[0]!.resources).toEqual([{ type: 'cluster', cluster: 'prod-*' }]);
    expect(res.headers.get('etag')).toMatch(/^"\d+\.\d+"$/);
  });

  it('answers 304 for the current ETag without recompiling, and gzip when asked', async () => {
    const first = await pull();
    const etag = first.headers.get('etag')!;
    const before = h.app.bundles.compilations;
    for (let i = 0; i < 5; i++) expect((await pull({ 'if-none-match': etag })).status).toBe(304);
    expect((await pull()).headers.get('etag')).toBe(etag);
    expect(h.app.bundles.compilations).toBe(before);
    const zipped = await pull({ 'accept-encoding': 'gzip' });
    expect(zipped.headers.get('content-encoding')).toBe('gzip');
    const text = await new Response(zipped.body!.pipeThrough(new DecompressionStream('gzip'))).text();
    expect(text).toBe(await (await pull()).text());
  });

  it('raises the revision when content changes and only then', async () => {
    const rev = async () => Number((await pull()).headers.get('palisade-bundle-revision'));
    const r0 = await rev();
    const created = await acme.json('POST', '/v1/runtime-policies', { name: 'caps', mode: 'audit', scopeIds: [scopeId], capabilitiesBlock: { enabled: true, capabilities: ['SYS_ADMIN'] } });
    expect(await rev()).toBe(r0 + 1);
    // A change that leaves this cluster's content alone: a policy for other clusters, an unused profile.
    const other = await acme.json('POST', '/v1/scopes', { name: 'dev', resources: [{ type: 'cluster', cluster: 'dev-*' }] });
    await acme.json('POST', '/v1/runtime-policies', { name: 'dev-only', mode: 'audit', scopeIds: [other.body.id] });
    await acme.json('POST', '/v1/runtime-profiles', { name: 'unused' });
    expect(await rev()).toBe(r0 + 1);
    await acme.json('PATCH', `/v1/runtime-policies/${created.body.id}`, { enabled: false });
    expect(await rev()).toBe(r0 + 2);
  });

  it('long-polls: ?wait returns as soon as a newer revision exists', async () => {
    const etag = (await pull()).headers.get('etag')!;
    const waiting = pull({ 'if-none-match': etag }, '?wait=20');
    await new Promise((r) => setTimeout(r, 100));
    await acme.json('POST', '/v1/runtime-policies', { name: 'late', mode: 'audit', scopeIds: [scopeId] });
    const res = await waiting;
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).not.toBe(etag);
    const timedOut = await pull({ 'if-none-match': res.headers.get('etag')! }, '?wait=1');
    expect(timedOut.status).toBe(304);
    expect((await pull({}, '?wait=abc')).status).toBe(400);
  });

  it('keeps credentials apart: user keys cannot pull, agent credentials cannot call tenant routes', async () => {
    expect((await agentRequest(h, acme.key, '/v1/agent/bundle')).status).toBe(401);
    expect((await agentRequest(h, agent.credential, '/v1/runtime-policies')).status).toBe(401);
    expect((await agentRequest(h, 'garbage', '/v1/agent/bundle')).status).toBe(401);
  });
});

describe('enrollment and credentials', () => {
  it('spends a token once and refuses expired or unknown ones', async () => {
    const again = await h.app.request('/v1/agent/enroll', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: agent.token }) });
    expect(again.status).toBe(401);
    const unknown = await h.app.request('/v1/agent/enroll', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'pet_nope' }) });
    expect(unknown.status).toBe(401);
  });

  it('revokes and rotates credentials', async () => {
    const second = await enrolledCluster(h, acme, 'prod-us');
    const rotated = await agentRequest(h, second.credential, '/v1/agent/credentials/rotate', { method: 'POST' });
    expect(rotated.status).toBe(201);
    const { credential } = (await rotated.json()) as { credential: string };
    expect((await agentRequest(h, credential, '/v1/agent/bundle')).status).toBe(200);
    expect((await agentRequest(h, second.credential, '/v1/agent/bundle')).status).toBe(200); // overlap
    const list = await acme.json('GET', `/v1/clusters/${second.clusterId}/credentials`);
    expect(list.body.items).toHaveLength(2);
    for (const c of list.body.items) expect((await acme.request('POST', `/v1/clusters/${second.clusterId}/credentials/${c.id}/revoke`)).status).toBe(204);
    expect((await agentRequest(h, credential, '/v1/agent/bundle')).status).toBe(401);
  });

  it('shows users the unsigned content and the agent status; other tenants get 404', async () => {
    const view = await acme.json('GET', `/v1/clusters/${agent.clusterId}/bundle`);
    expect(view.status).toBe(200);
    const { payload } = await jwtVerify(await (await pull()).text(), createLocalJWKSet(agent.jwks as never));
    expect(view.body).toEqual(payload.bundle);
    const report = { activeRevision: 3, lastError: null, counters: { polls: 4 }, agentVersion: '0.1.0' };
    const posted = await agentRequest(h, agent.credential, '/v1/agent/status', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(report) });
    expect(posted.status).toBe(204);
    expect((await acme.json('GET', `/v1/clusters/${agent.clusterId}/status`)).body).toMatchObject(report);
    for (const path of ['bundle', 'status', 'credentials']) expect((await globex.json('GET', `/v1/clusters/${agent.clusterId}/${path}`)).status).toBe(404);
    expect((await globex.json('POST', `/v1/clusters/${agent.clusterId}/enrollment-tokens`, {})).status).toBe(404);
  });

  it('publishes the public keys at /.well-known/jwks.json', async () => {
    const res = await h.app.request('/.well-known/jwks.json');
    const jwks = (await res.json()) as { keys: Array<Record<string, string>> };
    expect(jwks.keys).toEqual(agent.jwks.keys);
    expect(jwks.keys[0]).not.toHaveProperty('d');
  });
});

describe('cost of a poll', () => {
  it('answers a 304 poll from memory, without a database query', async () => {
    const { drizzle } = await import('drizzle-orm/pglite');
    let queries = 0;
    const counted = drizzle(database.client, { logger: { logQuery: () => void queries++ } });
    const counting = harness({ open: () => ({ db: counted as never, close: async () => {} }) });
    const headers = { authorization: `Bearer ${agent.credential}` };
    const etag = (await counting.app.request('/v1/agent/bundle', { headers })).headers.get('etag')!;
    expect(queries).toBeGreaterThan(0);
    const warm = queries;
    for (let i = 0; i < 20; i++) expect((await counting.app.request('/v1/agent/bundle', { headers: { ...headers, 'if-none-match': etag } })).status).toBe(304);
    expect(queries).toBe(warm);
  });
});

describe('changes that leave the content alone', () => {
  it('keep the signed bytes and the ETag, so agents get 304', async () => {
    const etag = (await pull()).headers.get('etag')!;
    await acme.json('POST', '/v1/runtime-profiles', { name: `unrelated-${Date.now()}` });
    expect((await pull({ 'if-none-match': etag })).status).toBe(304);
  });
});
