import { describe, expect, it } from 'vitest';
import { expectCreated, expectHiddenFromOtherTenant, expectStaleRefused, expectViewOnly, names, pointers, PROBLEM, twoTenants } from '../support/resource-checks.ts';

const { h, acme, globex } = await twoTenants();

const prodEu = { name: 'prod-eu', description: 'Frankfurt', labels: { env: 'prod', 'topology.kubernetes.io/region': 'eu-central-1' } };

describe('/v1/clusters', () => {
  it('runs the CRUD cycle with ETags', async () => {
    const created = await expectCreated(acme, '/v1/clusters', prodEu);
    const id = created.body.id as string;

    const put = await acme.json('PUT', `/v1/clusters/${id}`, { name: 'prod-eu', labels: { env: 'production' } }, { 'if-match': '"1"' });
    expect(put.status).toBe(200);
    expect(put.headers.get('etag')).toBe('"2"');
    // PUT replaces the whole document: the description is gone.
    expect(put.body).toMatchObject({ id, name: 'prod-eu', labels: { env: 'production' } });
    expect(put.body).not.toHaveProperty('description');
    expect(put.body.createdAt).toBe(created.body.createdAt);

    // Merge patch: members merge, null removes, other members stay.
    const patched = await acme.json(
      'PATCH',
      `/v1/clusters/${id}`,
      { description: 'EU production', labels: { env: null, tier: 'gold' } },
      { 'content-type': 'application/merge-patch+json', 'if-match': '"2"' },
    );
    expect(patched.status).toBe(200);
    expect(patched.headers.get('etag')).toBe('"3"');
    expect(patched.body).toMatchObject({ id, name: 'prod-eu', description: 'EU production', labels: { tier: 'gold' } });
    expect(patched.body.labels).toEqual({ tier: 'gold' });

    const renamed = await acme.json('PATCH', `/v1/clusters/${id}`, { name: 'prod-eu-1' });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'prod-eu-1', description: 'EU production', labels: { tier: 'gold' } });

    expect((await acme.request('DELETE', `/v1/clusters/${id}`)).status).toBe(204);
    const gone = await acme.json('GET', `/v1/clusters/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.headers.get('content-type')).toBe(PROBLEM);
    expect((await acme.json('DELETE', `/v1/clusters/${id}`)).status).toBe(404);
    expect((await acme.json('PUT', `/v1/clusters/${id}`, { name: 'prod-eu' })).status).toBe(404);
    expect((await acme.json('PATCH', `/v1/clusters/${id}`, { description: 'x' })).status).toBe(404);
    expect((await acme.json('GET', '/v1/clusters/not-a-uuid')).status).toBe(404);
    expect((await acme.json('GET', '/v1/clusters?name=prod-eu*')).body.items).toEqual([]);
  });

  it('filters by name and by label, and paginates with a cursor', async () => {
    for (const [name, env] of [['flt-a', 'prod'], ['flt-b', 'staging'], ['flt-c', 'prod'], ['flt-d', 'prod'], ['other-flt', 'prod']]) {
      expect((await acme.json('POST', '/v1/clusters', { name, labels: { env, 'app.kubernetes.io/team': 'blue' } })).status).toBe(201);
    }
    expect(names(await acme.json('GET', '/v1/clusters?name=flt-b'))).toEqual(['flt-b']);
    expect(names(await acme.json('GET', '/v1/clusters?name=flt-*'))).toEqual(['flt-a', 'flt-b', 'flt-c', 'flt-d']);
    expect(names(await acme.json('GET', '/v1/clusters?name=*-flt'))).toEqual(['other-flt']);
    expect(names(await acme.json('GET', '/v1/clusters?label=env=staging'))).toEqual(['flt-b']);
    expect(names(await acme.json('GET', '/v1/clusters?name=flt-*&label=env=prod'))).toEqual(['flt-a', 'flt-c', 'flt-d']);
    expect(names(await acme.json('GET', `/v1/clusters?label=${encodeURIComponent('app.kubernetes.io/team=blue')}&name=flt-*`))).toHaveLength(4);
    expect(names(await acme.json('GET', '/v1/clusters?label=env=nope'))).toEqual([]);

    const first = await acme.json('GET', '/v1/clusters?label=env=prod&limit=2');
    expect(first.status).toBe(200);
    expect(names(first)).toEqual(['flt-a', 'flt-c']);
    const second = await acme.json('GET', `/v1/clusters?label=env=prod&limit=2&cursor=${first.body.nextCursor}`);
    expect(names(second)).toEqual(['flt-d', 'other-flt']);
    expect(second.body.nextCursor).toBeUndefined();

    for (const query of ['label=env', 'label==prod', 'limit=0', 'limit=201', 'cursor=garbage', 'colour=red']) {
      const bad = await acme.json('GET', `/v1/clusters?${query}`);
      expect(bad.status, query).toBe(400);
      expect(bad.headers.get('content-type'), query).toBe(PROBLEM);
      expect(bad.body.errors[0].parameter, query).toBe(query.split('=')[0]);
    }
  });

  it('rejects invalid clusters with a pointer per field', async () => {
    const res = await acme.json('POST', '/v1/clusters', {
      name: 'Prod EU',
      description: 'x'.repeat(1025),
      labels: { 'bad key!': 'ok', 'example.com/team': 'not a value', 'a/b/c': 'x' },
      id: '0190f0f0-0000-7000-8000-000000000000',
    });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toBe(PROBLEM);
    expect(res.body).toMatchObject({ type: 'https://palisade.dev/problems/validation-failed', status: 422, instance: '/v1/clusters' });
    expect(pointers(res)).toEqual(['/description', '/id', '/labels/a~1b~1c', '/labels/bad key!', '/labels/example.com~1team', '/name']);
    expect(res.body.errors.find((e: { pointer: string }) => e.pointer === '/id').detail).toBe('unknown field');

    for (const [body, pointer] of [
      [{}, '/name'],
      [{ name: '-prod' }, '/name'],
      [{ name: 'a'.repeat(64) }, '/name'],
      [{ name: 'prod', labels: ['env=prod'] }, '/labels'],
      [{ name: 'prod', labels: { env: 'x'.repeat(64) } }, '/labels/env'],
    ] as const) {
      const bad = await acme.json('POST', '/v1/clusters', body);
      expect(bad.status, JSON.stringify(body)).toBe(422);
      expect(pointers(bad), JSON.stringify(body)).toEqual([pointer]);
    }

    const malformed = await acme.json('POST', '/v1/clusters', '{"name": ');
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('content-type')).toBe(PROBLEM);
    const wrongType = await acme.json('POST', '/v1/clusters', 'name=prod', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(wrongType.status).toBe(415);
    expect((await acme.json('GET', '/v1/clusters?name=Prod*')).body.items).toEqual([]);
  });

  it('validates PUT and PATCH bodies and leaves the cluster unchanged', async () => {
    const created = await acme.json('POST', '/v1/clusters', { name: 'val-target', labels: { env: 'prod' } });
    const id = created.body.id as string;
    const put = await acme.json('PUT', `/v1/clusters/${id}`, { name: 'val-target', labels: { env: 'prod' }, createdBy: 'me' });
    expect(put.status).toBe(422);
    expect(pointers(put)).toEqual(['/createdBy']);
    const patch = await acme.json('PATCH', `/v1/clusters/${id}`, { name: null, labels: { env: 'bad value!' }, extra: true });
    expect(patch.status).toBe(422);
    expect(patch.headers.get('content-type')).toBe(PROBLEM);
    expect(pointers(patch)).toEqual(['/extra', '/labels/env', '/name']);
    const notMergePatch = await acme.json('PATCH', `/v1/clusters/${id}`, '[]', { 'content-type': 'application/json-patch+json' });
    expect(notMergePatch.status).toBe(415);

    const after = await acme.json('GET', `/v1/clusters/${id}`);
    expect(after.body).toEqual(created.body);
    expect(after.headers.get('etag')).toBe('"1"');
  });

  it('answers 409 for a duplicate name, on create and on rename', async () => {
    expect((await acme.json('POST', '/v1/clusters', { name: 'dup' })).status).toBe(201);
    const again = await acme.json('POST', '/v1/clusters', { name: 'dup', description: 'second' });
    expect(again.status).toBe(409);
    expect(again.headers.get('content-type')).toBe(PROBLEM);
    expect(again.body.errors).toEqual([{ pointer: '/name', detail: 'already taken' }]);

    const other = await acme.json('POST', '/v1/clusters', { name: 'dup-2' });
    const rename = await acme.json('PATCH', `/v1/clusters/${other.body.id}`, { name: 'dup' });
    expect(rename.status).toBe(409);
    expect((await acme.json('GET', `/v1/clusters/${other.body.id}`)).body.name).toBe('dup-2');

    // Names are unique per tenant only.
    expect((await globex.json('POST', '/v1/clusters', { name: 'dup' })).status).toBe(201);
  });

  it('honours If-Match on PUT, PATCH and DELETE', async () => {
    const created = await acme.json('POST', '/v1/clusters', { name: 'etag' });
    const id = created.body.id as string;
    const v2 = await acme.json('PATCH', `/v1/clusters/${id}`, { description: 'v2' }, { 'if-match': '"1"' });
    expect(v2.headers.get('etag')).toBe('"2"');

    await expectStaleRefused(acme, `/v1/clusters/${id}`, { stale: '"1"', replaceBody: { name: 'etag', description: 'stale' }, patchBody: { description: 'stale' } });
    const unchanged = await acme.json('GET', `/v1/clusters/${id}`);
    expect(unchanged.body.description).toBe('v2');

    const listed = await acme.json('PUT', `/v1/clusters/${id}`, { name: 'etag', description: 'v3' }, { 'if-match': '"7", "2"' });
    expect(listed.status).toBe(200);
    expect(listed.headers.get('etag')).toBe('"3"');
    expect((await acme.json('PATCH', `/v1/clusters/${id}`, { description: 'v4' }, { 'if-match': '*' })).status).toBe(200);
    expect((await acme.request('DELETE', `/v1/clusters/${id}`, undefined, { 'if-match': '"4"' })).status).toBe(204);
  });

  it('needs clusters.manage to write; clusters.view reads', async () => {
    const created = await acme.json('POST', '/v1/clusters', { name: 'rights', labels: { env: 'prod' } });
    const id = created.body.id as string;
    await expectViewOnly(h, acme, {
      path: '/v1/clusters',
      created,
      createBody: { name: 'viewer-made' },
      replaceBody: { name: 'rights' },
      patchBody: { description: 'x' },
      viewRight: 'clusters.view',
      manageRight: 'clusters.manage',
      outsiderRights: ['scopes.view', 'scopes.manage'],
      listQuery: '?name=rights',
    });
    expect((await acme.json('GET', '/v1/clusters?name=viewer-made')).body.items).toEqual([]);

    const anonymous = await h.app.request(`/v1/clusters/${id}`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toBe(PROBLEM);
  });

  it('hides a cluster from another tenant on every endpoint', async () => {
    const created = await acme.json('POST', '/v1/clusters', { name: 'secret-cluster', description: 'acme only', labels: { owner: 'acme' } });
    expect(created.headers.get('etag')).toBe('"1"');
    await expectHiddenFromOtherTenant(acme, globex, {
      path: '/v1/clusters',
      created,
      replaceBody: { name: 'stolen' },
      patchBody: { description: 'stolen' },
      listQueries: ['', '?name=secret-*', '?label=owner=acme'],
    });
  });
});
