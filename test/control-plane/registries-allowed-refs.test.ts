import { beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, mustCreate, twoTenants } from '../support/resource-checks.ts';

const { acme, globex } = await twoTenants();
let scopeId: string;
let clusterId: string;
let registryId: string;

beforeAll(async () => {
  scopeId = (await mustCreate(acme, '/v1/scopes', { name: 'prod', resources: [{ type: 'cluster', cluster: 'prod-*' }] })).body.id;
  clusterId = (await mustCreate(acme, '/v1/clusters', { name: 'prod-eu' })).body.id;
  registryId = (await mustCreate(acme, '/v1/registries', { name: 'acme-ghcr', url: 'ghcr.io/acme' })).body.id;
});

const policy = (registries: unknown[], name = 'allowed') => ({ name, mode: 'enforce', scopeIds: [scopeId], registriesAllowed: { enabled: true, registries } });
const bundleRegistries = async () => (await acme.json('GET', `/v1/clusters/${clusterId}/bundle`)).body.policies.map((p: any) => p.registriesAllowed.registries);

describe('registriesAllowed names registries by prefix or by reference to /v1/registries', () => {
  it('stores references as given and compiles them to the registry prefix in the bundle', async () => {
    const created = await mustCreate(acme, '/v1/runtime-policies', policy(['quay.io/team', { registryId }]));
    expect(created.body.registriesAllowed.registries).toEqual(['quay.io/team', { registryId }]);
    expect(await bundleRegistries()).toEqual([['quay.io/team', 'ghcr.io/acme']]);

    // Editing the registry changes what the bundle allows (the bundle goes stale and is compiled again).
    const patched = await acme.json('PATCH', `/v1/registries/${registryId}`, { url: 'ghcr.io/acme-corp' }, { 'content-type': 'application/merge-patch+json' });
    expect(patched.status).toBe(200);
    expect(await bundleRegistries()).toEqual([['quay.io/team', 'ghcr.io/acme-corp']]);

    // A registry a policy uses cannot be deleted; once no policy uses it, it can.
    const refused = await acme.json('DELETE', `/v1/registries/${registryId}`);
    expectProblem(refused, 409);
    expect(refused.body.policies).toEqual([{ id: created.body.id, name: 'allowed' }]);
    expect((await acme.request('DELETE', `/v1/runtime-policies/${created.body.id}`)).status).toBe(204);
    const spare = (await mustCreate(acme, '/v1/registries', { name: 'spare', url: 'registry.example.com' })).body.id;
    expect((await acme.request('DELETE', `/v1/registries/${spare}`)).status).toBe(204);
  });

  it('refuses references to registries that do not exist or belong to another tenant, with a pointer', async () => {
    const foreign = (await mustCreate(globex, '/v1/registries', { name: 'theirs', url: 'ghcr.io/globex' })).body.id;
    const res = await acme.json('POST', '/v1/runtime-policies', policy(['docker.io/library', { registryId: foreign }, { registryId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b' }], 'bad'));
    expectProblem(res, 422);
    expect(res.body.errors.map((e: { pointer: string }) => e.pointer)).toEqual(['/registriesAllowed/registries/1/registryId', '/registriesAllowed/registries/2/registryId']);
    const malformed = await acme.json('POST', '/v1/runtime-policies', policy([{ registryId: 'nope' }, { url: 'x' }], 'bad'));
    expectProblem(malformed, 422);
  });
});
