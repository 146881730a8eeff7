import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness, TEST_ISSUER, type TenantClient } from '../../test/support/harness.ts';
import { testPglite } from '../../test/support/pglite.ts';
import { BundleClient, enroll, MemoryBundleStore, StatusReporter, type Enrollment } from '../src/index.ts';

// The agent SDK against the real control plane (the Hono app on an in-memory PGlite), with the app as its fetch.
const database = await testPglite();
afterAll(() => database.close());
const h = harness(database);
const appFetch: typeof fetch = (input, init) => Promise.resolve(h.app.request(input instanceof Request ? input : String(input), init));
const URL_BASE = 'http://palisade.internal';
let acme: TenantClient;
let clusterId: string;
let scopeId: string;
let enrollment: Enrollment;

beforeAll(async () => {
  acme = await h.tenant('acme');
  clusterId = (await acme.json('POST', '/v1/clusters', { name: 'prod-eu' })).body.id;
  scopeId = (await acme.json('POST', '/v1/scopes', { name: 'prod', resources: [{ type: 'cluster', cluster: 'prod-*' }] })).body.id;
  await acme.json('POST', '/v1/runtime-policies', { name: 'baseline', mode: 'enforce', scopeIds: [scopeId], limitContainerPrivileges: { enabled: true, preset: 'baseline' } });
  const token = (await acme.json('POST', `/v1/clusters/${clusterId}/enrollment-tokens`, {})).body.token as string;
  enrollment = await enroll({ url: URL_BASE, token, fetch: appFetch });
});

describe('agent SDK against the control plane', () => {
  it('enrolls, then pulls, verifies and activates bundles as policies change, and reports status', async () => {
    expect(enrollment).toMatchObject({ clusterId, tenantId: acme.id, issuer: TEST_ISSUER });
    await expect(enroll({ url: URL_BASE, token: 'used-or-unknown', fetch: appFetch })).rejects.toMatchObject({ code: 'unauthorized', status: 401 });

    const { credential, jwks: trust, issuer, tenantId } = enrollment;
    const client = new BundleClient({ url: URL_BASE, credential, trust, issuer, tenantId, clusterId, store: new MemoryBundleStore(), fetch: appFetch });
    const first = await client.pollOnce();
    expect(first.outcome).toBe('activated');
    const r1 = client.active!.revision;
    expect(client.active!.content.policies.map((p) => p.name)).toEqual(['baseline']);
    expect(await client.pollOnce()).toEqual({ outcome: 'not_modified' });

    await acme.json('POST', '/v1/runtime-policies', { name: 'caps', mode: 'audit', scopeIds: [scopeId], capabilitiesBlock: { enabled: true, capabilities: ['SYS_ADMIN'] } });
    expect((await client.pollOnce()).outcome).toBe('activated');
    expect(client.active!.revision).toBe(r1 + 1);
    expect(client.active!.content.policies.map((p) => p.name).sort()).toEqual(['baseline', 'caps']);

    await new StatusReporter({ url: URL_BASE, credential, source: () => client.status(), fetch: appFetch }).reportOnce();
    const seen = await acme.json('GET', `/v1/clusters/${clusterId}/status`);
    expect(seen.body).toMatchObject({ activeRevision: r1 + 1, activeDigest: client.active!.digest, lastError: null, counters: { polls: 3, notModified: 1, activations: 2 } });
  });

  it('is refused with a revoked or wrong credential, keeping what it has', async () => {
    const { jwks: trust, issuer, tenantId } = enrollment;
    const client = new BundleClient({ url: URL_BASE, credential: 'not-a-credential', trust, issuer, tenantId, clusterId, fetch: appFetch });
    expect(await client.pollOnce()).toMatchObject({ outcome: 'failed', error: { code: 'unauthorized', status: 401 } });
  });
});
