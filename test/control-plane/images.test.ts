import { describe, expect, it } from 'vitest';
import { keyWithRights, type TenantClient } from '../support/harness.ts';
import { expectCreated, expectHiddenFromOtherTenant, expectStaleRefused, expectViewOnly, mustCreate, pointers, PROBLEM, twoTenants } from '../support/resource-checks.ts';

const { h, acme, globex } = await twoTenants();

const digest = (ch: string) => `sha256:${ch.repeat(64)}`;
const references = (res: { body: { items: Array<{ reference: string; digest: string }> } }) => res.body.items.map((i) => `${i.reference}@${i.digest.slice(7, 8)}`);

const register = (client: TenantClient, body: Record<string, unknown>) => mustCreate(client, '/v1/images', body);

describe('/v1/images', () => {
  it('runs the CRUD cycle with ETags, storing the reference normalized', async () => {
    const created = await expectCreated(
      acme,
      '/v1/images',
      { reference: 'nginx', digest: digest('1') },
      { name: `docker.io/library/nginx@${digest('1')}`, reference: 'docker.io/library/nginx', digest: digest('1'), tags: [], compliance: 'notScanned', complianceReasons: [] },
    );
    const id = created.body.id as string;

    // A scanner integration records its verdict with a merge patch.
    const scanned = await acme.json(
      'PATCH',
      `/v1/images/${id}`,
      { compliance: 'nonCompliant', lastScanAt: '2025-03-01T12:00:00Z' },
      { 'content-type': 'application/merge-patch+json', 'if-match': '"1"' },
    );
    expect(scanned.status).toBe(200);
    expect(scanned.headers.get('etag')).toBe('"2"');
    expect(scanned.body).toMatchObject({ reference: 'docker.io/library/nginx', digest: digest('1'), compliance: 'nonCompliant', lastScanAt: '2025-03-01T12:00:00Z' });

    // PUT replaces: tags from the reference are added, the compliance falls back to notScanned without a scan time.
    const put = await acme.json('PUT', `/v1/images/${id}`, { reference: 'docker.io/library/nginx:1.27', digest: digest('1'), tags: ['stable'] }, { 'if-match': '"2"' });
    expect(put.status).toBe(200);
    expect(put.headers.get('etag')).toBe('"3"');
    expect(put.body).toMatchObject({ reference: 'docker.io/library/nginx', tags: ['stable', '1.27'], compliance: 'notScanned' });
    expect(put.body).not.toHaveProperty('lastScanAt');

    expect((await acme.request('DELETE', `/v1/images/${id}`)).status).toBe(204);
    const gone = await acme.json('GET', `/v1/images/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.headers.get('content-type')).toBe(PROBLEM);
  });

  it('normalizes every reference form', async () => {
    const cases: Array<[string, string, string[]]> = [
      ['redis', 'docker.io/library/redis', []],
      ['redis:7.2-alpine', 'docker.io/library/redis', ['7.2-alpine']],
      ['library/postgres:16', 'docker.io/library/postgres', ['16']],
      ['index.docker.io/bitnami/kafka', 'docker.io/bitnami/kafka', []],
      ['registry-1.docker.io/bitnami/kafka:3.7', 'docker.io/bitnami/kafka', ['3.7']],
      ['GHCR.IO/acme/web:1.2', 'ghcr.io/acme/web', ['1.2']],
      ['localhost:5000/team/app:dev', 'localhost:5000/team/app', ['dev']],
      [`quay.io/acme/api@${digest('c')}`, 'quay.io/acme/api', []],
      [`quay.io/acme/worker:v1@${digest('d')}`, 'quay.io/acme/worker', ['v1']],
    ];
    for (const [i, [reference, normalized, tags]] of cases.entries()) {
      const d = reference.includes('@') ? reference.slice(reference.indexOf('@') + 1) : digest(i.toString(16));
      const res = await acme.json('POST', '/v1/images', { reference, digest: d });
      expect(res.status, reference).toBe(201);
      expect(res.body, reference).toMatchObject({ reference: normalized, tags, name: `${normalized}@${d}` });
    }
  });

  it('rejects invalid images with a pointer per field', async () => {
    const res = await acme.json('POST', '/v1/images', {
      reference: 'Not A Reference',
      digest: 'sha256:ABC',
      tags: ['ok', '-bad', 'x'.repeat(129)],
      registryId: 'registry-1',
      compliance: 'unknown',
      lastScanAt: 'yesterday',
      name: 'nginx',
    });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toBe(PROBLEM);
    expect(pointers(res)).toEqual(['/compliance', '/digest', '/lastScanAt', '/name', '/reference', '/registryId', '/tags/1', '/tags/2']);
    expect(res.body.errors.find((e: { pointer: string }) => e.pointer === '/name').detail).toBe('unknown field');

    for (const [body, expected] of [
      [{ reference: 'nginx' }, ['/digest']],
      [{ digest: digest('a') }, ['/reference']],
      [{ reference: 'nginx', digest: `sha512:${'a'.repeat(128)}` }, ['/digest']],
      [{ reference: 'ghcr.io/Acme/web', digest: digest('a') }, ['/reference']],
      [{ reference: 'nginx@sha256:abc', digest: digest('a') }, ['/reference']],
      [{ reference: 'nginx', digest: digest('a'), lastScanAt: '2025-03-01 12:00' }, ['/lastScanAt']],
    ] as const) {
      const bad = await acme.json('POST', '/v1/images', body);
      expect(bad.status, JSON.stringify(body)).toBe(422);
      expect(pointers(bad), JSON.stringify(body)).toEqual(expected);
    }
  });

  it('refuses a reference whose digest is not the image digest', async () => {
    const res = await acme.json('POST', '/v1/images', { reference: `ghcr.io/acme/web@${digest('a')}`, digest: digest('b') });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toBe(PROBLEM);
    expect(res.body.errors).toEqual([{ pointer: '/reference', detail: expect.stringContaining(digest('a')) }]);

    const created = await register(acme, { reference: 'ghcr.io/acme/mismatch', digest: digest('a') });
    const patch = await acme.json('PATCH', `/v1/images/${created.body.id}`, { reference: `ghcr.io/acme/mismatch@${digest('b')}` });
    expect(patch.status).toBe(422);
    expect(pointers(patch)).toEqual(['/reference']);
    expect((await acme.json('GET', `/v1/images/${created.body.id}`)).body).toEqual(created.body);
  });

  it('refuses an unknown registry and accepts one of the tenant', async () => {
    const unknown = await acme.json('POST', '/v1/images', { reference: 'ghcr.io/acme/app', digest: digest('e'), registryId: '0190f0f0-0000-7000-8000-000000000000' });
    expect(unknown.status).toBe(422);
    expect(unknown.headers.get('content-type')).toBe(PROBLEM);
    expect(unknown.body.type).toBe('https://palisade.dev/problems/unprocessable-references');
    expect(pointers(unknown)).toEqual(['/registryId']);

    const registry = await acme.json('POST', '/v1/registries', { name: 'ghcr', url: 'ghcr.io/acme' });
    const image = await acme.json('POST', '/v1/images', { reference: 'ghcr.io/acme/app', digest: digest('e'), registryId: registry.body.id });
    expect(image.status).toBe(201);
    expect(image.body.registryId).toBe(registry.body.id);
  });

  it('answers 409 for an image already registered with that repository and digest', async () => {
    await register(acme, { reference: 'alpine', digest: digest('f') });
    for (const reference of ['alpine', 'docker.io/library/alpine:3.20', `index.docker.io/library/alpine@${digest('f')}`]) {
      const again = await acme.json('POST', '/v1/images', { reference, digest: digest('f') });
      expect(again.status, reference).toBe(409);
      expect(again.headers.get('content-type'), reference).toBe(PROBLEM);
      // The problem points at the members the client sent, not at the server-made name.
      expect(again.body.errors, reference).toEqual([
        { pointer: '/reference', detail: 'already taken' },
        { pointer: '/digest', detail: 'already taken' },
      ]);
      expect(again.body.detail, reference).toBe(`an image named "docker.io/library/alpine@${digest('f')}" already exists`);
    }
    // Another digest of the same repository, or the same digest in another repository, is another image.
    expect((await acme.json('POST', '/v1/images', { reference: 'alpine', digest: digest('0') })).status).toBe(201);
    const other = await acme.json('POST', '/v1/images', { reference: 'ghcr.io/acme/alpine', digest: digest('f') });
    expect(other.status).toBe(201);
    const moved = await acme.json('PATCH', `/v1/images/${other.body.id}`, { reference: 'alpine:edge' });
    expect(moved.status).toBe(409);
    expect((await acme.json('GET', `/v1/images/${other.body.id}`)).body).toEqual(other.body);
    // Per tenant only.
    expect((await globex.json('POST', '/v1/images', { reference: 'alpine', digest: digest('f') })).status).toBe(201);
  });

  it('filters by compliance, reference and digest, and paginates with a cursor', async () => {
    const scanner = h.as(acme, await keyWithRights(acme, ['images.view', 'images.manage']));
    const verdicts = ['compliant', 'nonCompliant', 'compliant', 'notScanned', 'compliant'] as const;
    for (const [i, compliance] of verdicts.entries()) {
      const image = await register(scanner, { reference: `registry.acme.example/flt/app-${i % 2}:v${i}`, digest: digest(String(i)) });
      if (compliance !== 'notScanned') {
        const patched = await scanner.json('PATCH', `/v1/images/${image.body.id}`, { compliance, lastScanAt: `2025-03-0${i + 1}T00:00:00Z` }, { 'if-match': '"1"' });
        expect(patched.status).toBe(200);
      }
    }
    const flt = (query: string) => acme.json('GET', `/v1/images?${query}`);
    expect(references(await flt('reference=registry.acme.example/flt/app-0'))).toEqual([
      'registry.acme.example/flt/app-0@0',
      'registry.acme.example/flt/app-0@2',
      'registry.acme.example/flt/app-0@4',
    ]);
    // The filter takes any reference form; tags and digests in it are ignored.
    expect(references(await flt(`reference=${encodeURIComponent('REGISTRY.ACME.EXAMPLE/flt/app-1:v1')}`))).toEqual(['registry.acme.example/flt/app-1@1', 'registry.acme.example/flt/app-1@3']);
    expect(references(await flt('reference=registry.acme.example/flt/app-0&compliance=compliant'))).toEqual([
      'registry.acme.example/flt/app-0@0',
      'registry.acme.example/flt/app-0@2',
      'registry.acme.example/flt/app-0@4',
    ]);
    expect(references(await flt('reference=registry.acme.example/flt/app-1&compliance=nonCompliant'))).toEqual(['registry.acme.example/flt/app-1@1']);
    expect(references(await flt('reference=registry.acme.example/flt/app-1&compliance=notScanned'))).toEqual(['registry.acme.example/flt/app-1@3']);
    expect(references(await flt(`digest=${digest('3')}&reference=registry.acme.example/flt/app-1`))).toEqual(['registry.acme.example/flt/app-1@3']);
    expect((await flt(`digest=${digest('9')}&reference=registry.acme.example/flt/app-1`)).body.items).toEqual([]);

    const nonCompliant = await flt('compliance=nonCompliant');
    expect(nonCompliant.body.items.find((i: { reference: string }) => i.reference === 'registry.acme.example/flt/app-1')).toMatchObject({ lastScanAt: '2025-03-02T00:00:00Z' });

    const first = await flt('reference=registry.acme.example/flt/app-0&limit=2');
    expect(references(first)).toEqual(['registry.acme.example/flt/app-0@0', 'registry.acme.example/flt/app-0@2']);
    const second = await flt(`reference=registry.acme.example/flt/app-0&limit=2&cursor=${first.body.nextCursor}`);
    expect(references(second)).toEqual(['registry.acme.example/flt/app-0@4']);
    expect(second.body.nextCursor).toBeUndefined();

    for (const [query, parameter] of [
      ['compliance=failed', 'compliance'],
      ['reference=Not%20A%20Reference', 'reference'],
      ['reference=ghcr.io/acme/*', 'reference'],
      ['digest=sha256:abc', 'digest'],
      ['cursor=garbage', 'cursor'],
      ['tag=latest', 'tag'],
    ] as const) {
      const bad = await flt(query);
      expect(bad.status, query).toBe(400);
      expect(bad.headers.get('content-type'), query).toBe(PROBLEM);
      expect(bad.body.errors, query).toEqual([{ parameter, detail: expect.any(String) }]);
    }
  });

  it('honours If-Match', async () => {
    const created = await register(acme, { reference: 'busybox', digest: digest('b') });
    const id = created.body.id as string;
    expect((await acme.json('PATCH', `/v1/images/${id}`, { compliance: 'compliant', lastScanAt: '2025-01-01T00:00:00Z' }, { 'if-match': '"1"' })).status).toBe(200);
    await expectStaleRefused(acme, `/v1/images/${id}`, { stale: '"1"', replaceBody: { reference: 'busybox', digest: digest('b') }, patchBody: { compliance: 'nonCompliant' } });
    expect((await acme.json('GET', `/v1/images/${id}`)).body.compliance).toBe('compliant');
    const again = await acme.json('PATCH', `/v1/images/${id}`, { compliance: 'nonCompliant', lastScanAt: '2025-01-02T00:00:00Z' }, { 'if-match': '"2"' });
    expect(again.status).toBe(200);
    expect((await acme.request('DELETE', `/v1/images/${id}`, undefined, { 'if-match': '"3"' })).status).toBe(204);
  });

  it('needs images.manage to write; images.view reads', async () => {
    const created = await register(acme, { reference: 'ghcr.io/acme/rights', digest: digest('9') });
    await expectViewOnly(h, acme, {
      path: '/v1/images',
      created,
      createBody: { reference: 'ghcr.io/acme/viewer', digest: digest('9') },
      replaceBody: { reference: 'ghcr.io/acme/rights', digest: digest('9'), compliance: 'compliant' },
      patchBody: { compliance: 'compliant' },
      viewRight: 'images.view',
      manageRight: 'images.manage',
      outsiderRights: ['registries.view'],
      listQuery: '?reference=ghcr.io/acme/rights',
    });
    expect((await acme.json('GET', '/v1/images?reference=ghcr.io/acme/viewer')).body.items).toEqual([]);
  });

  it('hides an image from another tenant on every endpoint', async () => {
    const created = await register(acme, { reference: 'registry.acme.internal/secret/app:1.0', digest: digest('5') });
    expect(created.headers.get('etag')).toBe('"1"');
    await expectHiddenFromOtherTenant(acme, globex, {
      path: '/v1/images',
      created,
      replaceBody: { reference: 'registry.acme.internal/secret/app', digest: digest('5'), compliance: 'compliant' },
      patchBody: { compliance: 'compliant' },
      listQueries: ['', '?reference=registry.acme.internal/secret/app', `?digest=${digest('5')}`, '?compliance=notScanned'],
    });
  });
});
