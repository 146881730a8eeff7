import { describe, expect, it } from 'vitest';
import type { TenantClient } from '../support/harness.ts';
import { expectCreated, expectHiddenFromOtherTenant, expectStaleRefused, expectViewOnly, mustCreate, names, pointers, PROBLEM, twoTenants } from '../support/resource-checks.ts';

const { h, acme, globex } = await twoTenants();


const ghcr = { name: 'GitHub Packages', description: 'acme images on GHCR', url: 'ghcr.io/acme', type: 'generic' };

const createRegistry = (client: TenantClient, body: Record<string, unknown>) => mustCreate(client, '/v1/registries', body);

describe('/v1/registries', () => {
  it('runs the CRUD cycle with ETags', async () => {
    const created = await expectCreated(acme, '/v1/registries', ghcr, { ...ghcr, credentialsSet: false });
    const id = created.body.id as string;

    // PUT replaces: the type falls back to its default, the description is gone.
    const put = await acme.json('PUT', `/v1/registries/${id}`, { name: 'GitHub Packages', url: 'ghcr.io/acme/platform' }, { 'if-match': '"1"' });
    expect(put.status).toBe(200);
    expect(put.headers.get('etag')).toBe('"2"');
    expect(put.body).toMatchObject({ id, name: 'GitHub Packages', url: 'ghcr.io/acme/platform', type: 'generic' });
    expect(put.body).not.toHaveProperty('description');

    const patched = await acme.json(
      'PATCH',
      `/v1/registries/${id}`,
      { description: 'platform images', type: 'gitlab' },
      { 'content-type': 'application/merge-patch+json', 'if-match': '"2"' },
    );
    expect(patched.status).toBe(200);
    expect(patched.headers.get('etag')).toBe('"3"');
    expect(patched.body).toMatchObject({ id, name: 'GitHub Packages', url: 'ghcr.io/acme/platform', type: 'gitlab', description: 'platform images' });
    const cleared = await acme.json('PATCH', `/v1/registries/${id}`, { description: null, type: null });
    expect(cleared.body).toMatchObject({ type: 'generic' });
    expect(cleared.body).not.toHaveProperty('description');

    expect((await acme.request('DELETE', `/v1/registries/${id}`)).status).toBe(204);
    const gone = await acme.json('GET', `/v1/registries/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.headers.get('content-type')).toBe(PROBLEM);
  });

  it('accepts hosts with ports and repository prefixes', async () => {
    for (const [name, url, type] of [
      ['hub', 'docker.io', 'dockerHub'],
      ['local', 'localhost:5000', 'generic'],
      ['harbor', 'harbor.acme.example:8443/library/team-a', 'harbor'],
      ['ecr', '123456789012.dkr.ecr.eu-central-1.amazonaws.com', 'ecr'],
      ['quay', 'quay.io/acme_corp/base__images', 'quay'],
    ] as const) {
      const res = await acme.json('POST', '/v1/registries', { name, url, type });
      expect(res.status, url).toBe(201);
      expect(res.body, url).toMatchObject({ name, url, type });
    }
  });

  it('rejects invalid registries with a pointer per field', async () => {
    const res = await acme.json('POST', '/v1/registries', { name: 'bad\u0007name', url: 'https://ghcr.io/acme', type: 'artifactory', credentials: { password: 'x' } });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toBe(PROBLEM);
    expect(pointers(res)).toEqual(['/credentials/username', '/name', '/type', '/url']);
    expect(res.body.errors.find((e: { pointer: string }) => e.pointer === '/credentials/username').detail).toMatch(/expected string/i);

    for (const [body, expected] of [
      [{ name: 'no-url' }, ['/url']],
      [{ name: 'upper-repo', url: 'ghcr.io/Acme' }, ['/url']],
      [{ name: 'trailing-slash', url: 'ghcr.io/acme/' }, ['/url']],
      [{ name: 'tagged', url: 'ghcr.io/acme/web:1.0' }, ['/url']],
      [{ name: 'x'.repeat(129), url: 'ghcr.io' }, ['/name']],
      [{ name: 'typed', url: 'ghcr.io', type: 'GHCR' }, ['/type']],
      [{ name: 'described', url: 'ghcr.io', description: 42 }, ['/description']],
    ] as const) {
      const bad = await acme.json('POST', '/v1/registries', body);
      expect(bad.status, JSON.stringify(body)).toBe(422);
      expect(pointers(bad), JSON.stringify(body)).toEqual(expected);
    }
  });

  it('filters by name and url, and paginates with a cursor', async () => {
    for (let i = 0; i < 5; i++) await createRegistry(acme, { name: `page-${i}`, url: i % 2 === 0 ? 'registry.acme.example' : `registry.acme.example/team-${i}` });
    expect(names(await acme.json('GET', '/v1/registries?name=page-2'))).toEqual(['page-2']);
    expect(names(await acme.json('GET', '/v1/registries?url=registry.acme.example'))).toEqual(['page-0', 'page-2', 'page-4']);
    expect(names(await acme.json('GET', `/v1/registries?url=${encodeURIComponent('registry.acme.example/team-3')}`))).toEqual(['page-3']);
    const first = await acme.json('GET', '/v1/registries?name=page-*&limit=2');
    expect(names(first)).toEqual(['page-0', 'page-1']);
    const second = await acme.json('GET', `/v1/registries?name=page-*&limit=2&cursor=${first.body.nextCursor}`);
    const third = await acme.json('GET', `/v1/registries?name=page-*&limit=2&cursor=${second.body.nextCursor}`);
    expect([...names(second), ...names(third)]).toEqual(['page-2', 'page-3', 'page-4']);
    expect(third.body.nextCursor).toBeUndefined();
    for (const query of ['cursor=garbage', 'limit=1000', 'type=harbor']) {
      const bad = await acme.json('GET', `/v1/registries?${query}`);
      expect(bad.status, query).toBe(400);
      expect(bad.headers.get('content-type')).toBe(PROBLEM);
    }
  });

  it('answers 409 for a duplicate name', async () => {
    await createRegistry(acme, { name: 'dup', url: 'ghcr.io' });
    const again = await acme.json('POST', '/v1/registries', { name: 'dup', url: 'quay.io' });
    expect(again.status).toBe(409);
    expect(again.headers.get('content-type')).toBe(PROBLEM);
    expect(again.body.errors).toEqual([{ pointer: '/name', detail: 'already taken' }]);
    const other = await createRegistry(acme, { name: 'dup-2', url: 'ghcr.io' });
    expect((await acme.json('PATCH', `/v1/registries/${other.body.id}`, { name: 'dup' })).status).toBe(409);
    expect((await acme.json('GET', `/v1/registries/${other.body.id}`)).body.name).toBe('dup-2');
  });

  it('honours If-Match', async () => {
    const created = await createRegistry(acme, { name: 'etag', url: 'ghcr.io' });
    const id = created.body.id as string;
    expect((await acme.json('PATCH', `/v1/registries/${id}`, { description: 'v2' }, { 'if-match': '"1"' })).status).toBe(200);
    await expectStaleRefused(acme, `/v1/registries/${id}`, { stale: '"1"', replaceBody: { name: 'etag', url: 'quay.io' }, patchBody: { url: 'quay.io' } });
    expect((await acme.json('GET', `/v1/registries/${id}`)).body).toMatchObject({ url: 'ghcr.io', description: 'v2' });
    const put = await acme.json('PUT', `/v1/registries/${id}`, { name: 'etag', url: 'quay.io' }, { 'if-match': '"2"' });
    expect(put.status).toBe(200);
    expect((await acme.request('DELETE', `/v1/registries/${id}`, undefined, { 'if-match': '"3"' })).status).toBe(204);
  });

  it('needs registries.manage to write; registries.view reads', async () => {
    const created = await createRegistry(acme, { name: 'rights', url: 'ghcr.io' });
    await expectViewOnly(h, acme, {
      path: '/v1/registries',
      created,
      createBody: { name: 'viewer-made', url: 'ghcr.io' },
      replaceBody: { name: 'rights', url: 'quay.io' },
      patchBody: { url: 'quay.io' },
      viewRight: 'registries.view',
      manageRight: 'registries.manage',
      outsiderRights: ['images.view', 'images.manage'],
      listQuery: '?name=rights',
    });
  });

  it('hides a registry from another tenant on every endpoint', async () => {
    const created = await createRegistry(acme, { name: 'secret-registry', url: 'registry.acme.internal/secret', type: 'harbor' });
    const id = created.body.id as string;
    expect(created.headers.get('etag')).toBe('"1"');
    await expectHiddenFromOtherTenant(acme, globex, { path: '/v1/registries', created, replaceBody: { name: 'stolen', url: 'evil.example' }, patchBody: { url: 'evil.example' } });
    expect(names(await globex.json('GET', `/v1/registries?url=${encodeURIComponent('registry.acme.internal/secret')}`))).toEqual([]);

    // Nor can another tenant register images in it.
    const image = await globex.json('POST', '/v1/images', { reference: 'registry.acme.internal/secret/app', digest: `sha256:${'a'.repeat(64)}`, registryId: id });
    expect(image.status).toBe(422);
    expect(pointers(image)).toEqual(['/registryId']);
  });
});

describe('registries in use', () => {
  it('refuses to delete a registry that registered images name (409), and allows it once they are gone', async () => {
    const registry = await acme.json('POST', '/v1/registries', { name: 'in-use', url: 'registry.in-use.example' });
    const image = await acme.json('POST', '/v1/images', { reference: 'registry.in-use.example/app', digest: `sha256:${'b'.repeat(64)}`, registryId: registry.body.id });
    expect(image.status).toBe(201);
    const refused = await acme.json('DELETE', `/v1/registries/${registry.body.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.images).toEqual([{ id: image.body.id, name: image.body.name }]);
    expect((await acme.request('DELETE', `/v1/images/${image.body.id}`)).status).toBe(204);
    expect((await acme.request('DELETE', `/v1/registries/${registry.body.id}`)).status).toBe(204);
  });
});
