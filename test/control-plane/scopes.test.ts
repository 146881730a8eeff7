import { describe, expect, it } from 'vitest';
import { expectHiddenFromOtherTenant, expectViewOnly, names, pointers, PROBLEM, twoTenants } from '../support/resource-checks.ts';

const { h, acme, globex } = await twoTenants();

const prod = { name: 'prod', resources: [{ type: 'cluster', cluster: 'prod-*' }, { type: 'namespace', cluster: 'prod-eu', namespace: 'payments' }] };

describe('/v1/scopes', () => {
  it('runs the CRUD cycle with ETags', async () => {
    const created = await acme.json('POST', '/v1/scopes', prod);
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/v1/scopes/${created.body.id}`);
    expect(created.body).toMatchObject({ ...prod, global: false, createdBy: expect.stringMatching(/^apiKey:/) });
    const etag = created.headers.get('etag')!;

    const got = await acme.json('GET', `/v1/scopes/${created.body.id}`);
    expect(got.status).toBe(200);
    expect(got.headers.get('etag')).toBe(etag);

    const patched = await acme.json('PATCH', `/v1/scopes/${created.body.id}`, { description: 'production' }, { 'if-match': etag });
    expect(patched.status).toBe(200);
    expect(patched.body.description).toBe('production');
    expect(patched.headers.get('etag')).not.toBe(etag);

    const stale = await acme.json('PUT', `/v1/scopes/${created.body.id}`, prod, { 'if-match': etag });
    expect(stale.status).toBe(412);
    expect(stale.headers.get('content-type')).toBe(PROBLEM);

    const list = await acme.json('GET', '/v1/scopes?name=prod*');
    expect(names(list)).toEqual(['prod']);

    expect((await acme.request('DELETE', `/v1/scopes/${created.body.id}`)).status).toBe(204);
    expect((await acme.json('GET', `/v1/scopes/${created.body.id}`)).status).toBe(404);
  });

  it('lists the built-in global scope, which cannot change', async () => {
    const list = await acme.json('GET', '/v1/scopes');
    const global = list.body.items.find((s: { global: boolean }) => s.global);
    expect(global).toMatchObject({ name: 'global', global: true });
    const put = await acme.json('PUT', `/v1/scopes/${global.id}`, prod);
    expect(put.status).toBe(409);
    expect((await acme.json('DELETE', `/v1/scopes/${global.id}`)).status).toBe(409);
  });

  it('rejects invalid scopes with a pointer per field', async () => {
    const res = await acme.json('POST', '/v1/scopes', { name: '', resources: [{ type: 'cluster', cluster: 'Bad Name' }, { type: 'nope' }], extra: 1 });
    expect(res.status).toBe(422);
    expect(pointers(res)).toEqual(['/extra', '/name', '/resources/0/cluster', '/resources/1/type']);
  });

  it('answers 409 for a duplicate name', async () => {
    expect((await acme.json('POST', '/v1/scopes', { ...prod, name: 'dup' })).status).toBe(201);
    const again = await acme.json('POST', '/v1/scopes', { ...prod, name: 'dup' });
    expect(again.status).toBe(409);
    expect(again.body.errors).toEqual([{ pointer: '/name', detail: 'already taken' }]);
  });

  it('paginates with a cursor', async () => {
    for (let i = 0; i < 5; i++) await acme.json('POST', '/v1/scopes', { ...prod, name: `page-${i}` });
    const first = await acme.json('GET', '/v1/scopes?name=page-*&limit=2');
    expect(first.body.items).toHaveLength(2);
    const second = await acme.json('GET', `/v1/scopes?name=page-*&limit=2&cursor=${first.body.nextCursor}`);
    const third = await acme.json('GET', `/v1/scopes?name=page-*&limit=2&cursor=${second.body.nextCursor}`);
    expect([...first.body.items, ...second.body.items, ...third.body.items].map((s: { name: string }) => s.name)).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
    expect(third.body.nextCursor).toBeUndefined();
    expect((await acme.json('GET', '/v1/scopes?cursor=garbage')).status).toBe(400);
  });

  it('needs the scopes rights (403) and hides another tenant’s scopes (404)', async () => {
    const created = await acme.json('POST', '/v1/scopes', { ...prod, name: 'private' });
    await expectViewOnly(h, acme, {
      path: '/v1/scopes',
      created,
      createBody: { ...prod, name: 'x' },
      replaceBody: { ...prod, name: 'private' },
      patchBody: { description: 'x' },
      viewRight: 'scopes.view',
      manageRight: 'scopes.manage',
      outsiderRights: ['clusters.view'],
      listQuery: '?name=private',
    });

    await expectHiddenFromOtherTenant(acme, globex, { path: '/v1/scopes', created, replaceBody: prod, patchBody: { description: 'x' } });
    expect(names(await globex.json('GET', '/v1/scopes'))).toEqual(['global']);
    expect((await acme.json('GET', `/v1/scopes/${created.body.id}`)).body.description).toBeUndefined();
  });
});

describe('scopes used by runtime policies', () => {
  it('cannot become registry-only or be deleted while a policy uses them (409 naming the policy)', async () => {
    const scope = await acme.json('POST', '/v1/scopes', { ...prod, name: 'used' });
    const policy = await acme.json('POST', '/v1/runtime-policies', { name: 'uses-scope', mode: 'audit', scopeIds: [scope.body.id] });
    expect(policy.status).toBe(201);
    const narrowed = await acme.json('PUT', `/v1/scopes/${scope.body.id}`, { name: 'used', resources: [{ type: 'registry', registry: 'ghcr.io/acme' }] });
    expect(narrowed.status).toBe(409);
    expect(narrowed.body.policies).toEqual([{ id: policy.body.id, name: 'uses-scope' }]);
    expect((await acme.json('DELETE', `/v1/scopes/${scope.body.id}`)).status).toBe(409);
    expect((await acme.json('PATCH', `/v1/scopes/${scope.body.id}`, { description: 'still fine' })).status).toBe(200);
  });
});
